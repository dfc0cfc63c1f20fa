"""Connections through a transaction-mode pooler (PgBouncer ``pool_mode = transaction``).

Such a pooler lends a server connection for one transaction at a time, so nothing may
outlive a transaction: no session ``SET``, no session advisory lock, no cursor ``WITH HOLD``
(Django's server-side cursors outside a transaction), no prepared statement (PgBouncer 1.18
does not track them; Django already turns psycopg's automatic ones off).

Declared with ``?pooler=transaction`` in a ``DATABASE_URL`` / ``DATABASE_<ALIAS>_URL``, or
``DATABASE_POOLER=transaction`` for every connection (``configure``). ``migrate`` also
detects a pooler it was not told about (``adapt``): the server listens on another port than
the one connected to, so something sits in between; it then works as if one was declared.
"""

import contextlib
import os
from collections.abc import Iterator

TRANSACTION = "transaction"
MODES = ("", "session", TRANSACTION)


class UnknownPoolerMode(ValueError):
    pass


def configure(database: dict) -> dict:
    """Settings of one connection with its pooler (URL ``pooler=`` query parameter, else
    ``DATABASE_POOLER``) moved out of ``OPTIONS`` (psycopg rejects unknown parameters)."""
    options = database.setdefault("OPTIONS", {})
    mode = str(options.pop("pooler", os.environ.get("DATABASE_POOLER", ""))).lower()
    database["POOLER"] = mode  # an unknown mode is refused by ``adapt``, in one paragraph
    if mode == TRANSACTION:
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
        options["prepare_threshold"] = None
    return database


def transaction_pooled(connection) -> bool:
    return connection.settings_dict.get("POOLER") == TRANSACTION


def something_in_between(connection) -> bool:
    """True when the server does not listen on the port connected to: a pooler or a proxy."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('port')")
        (server_port,) = cursor.fetchone()
    return str(connection.connection.info.port) != str(server_port)


def adapt(connection) -> bool:
    """Work as through a transaction pooler when one is declared or detected; True if so.

    A port-forwarding proxy is taken for a pooler too: that costs only the session
    ``lock_timeout`` of concurrent index builds (``session_lock_timeout``).
    """
    mode = connection.settings_dict.get("POOLER", "")
    if mode not in MODES:
        raise UnknownPoolerMode(
            f"Unknown pooler mode {mode!r} (the URL's pooler= or DATABASE_POOLER): use "
            "pooler=transaction for PgBouncer's pool_mode = transaction, pooler=session for "
            "session pooling, or leave it out for a direct connection. Statement pooling "
            "cannot work: a migration needs transactions; point DATABASE_URL at the server "
            "itself or at a transaction or session pool. Nothing was applied."
        )
    if not transaction_pooled(connection) and something_in_between(connection):
        connection.settings_dict["POOLER"] = TRANSACTION
        connection.settings_dict["DISABLE_SERVER_SIDE_CURSORS"] = True
        connection.connection.prepare_threshold = None
    return transaction_pooled(connection)


@contextlib.contextmanager
def session_lock_timeout(connection, cursor, timeout: str) -> Iterator[None]:
    """``SET lock_timeout`` for a statement that cannot run in a transaction block
    (``CREATE/DROP INDEX CONCURRENTLY``), ``RESET`` after it.

    Through a transaction pooler the three statements may run on three server connections,
    leaving the timeout on one that another client gets next, so none is set there: the
    statement waits for its lock without a timeout. That is safe for what needs it:
    concurrent index builds and drops take SHARE UPDATE EXCLUSIVE, which never blocks the
    application's reads and writes while it waits.
    """
    if transaction_pooled(connection):
        yield
        return
    cursor.execute(f"SET lock_timeout = '{timeout}'")
    try:
        yield
    finally:
        cursor.execute("RESET lock_timeout")
