"""The keyring in the database: which key each key id stands for (issue 11).

Keys live in the settings of every process that writes, so nothing but the database can tell
that two processes use two different keys under one key id. ``public.encryption_keyring``
holds, per key id, a check value: ``CHECK_PLAINTEXT`` sealed under that key, in the envelope
format (``database.secrets.crypto``), recorded the first time the key id seals a value here. Every
path that seals (the encrypting migrations, ``rotate_keys``, archives, the encrypted fields)
calls ``verify`` first: the configured key must open the check value, or nothing is written.
Verified once per process, database and key.

A key id that sealed values before the keyring existed is recorded only once the configured
key opens the values the database already holds under it (a few per column), so a keyring
never starts out recording the wrong key.
"""

from __future__ import annotations

from django.db import transaction
from psycopg import sql

from database.online import archive
from database.secrets import crypto

TABLE = "encryption_keyring"
CHECK_PLAINTEXT = "platform-schema keyring check value"
EXISTING_SAMPLE = 3

CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS public.{TABLE} (
    kid text PRIMARY KEY,
    check_value text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
)
"""

_verified: set[tuple[str, str, str, str]] = set()


def ensure_table(connection) -> None:
    """Create the keyring table where it is missing (the one place that creates it)."""
    if not exists(connection):
        with connection.cursor() as cursor:
            cursor.execute(CREATE_TABLE)


def exists(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"public.{TABLE}"])
        return cursor.fetchone()[0]


def recorded(connection) -> dict[str, tuple[str, object]]:
    """``{kid: (check value, recorded at)}``; empty when there is no keyring table."""
    if not exists(connection):
        return {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT kid, check_value, recorded_at FROM public.{TABLE} ORDER BY kid")
        return {kid: (value, at) for kid, value, at in cursor.fetchall()}


def opens(check_value: str) -> bool:
    """True when the configured key of the check value's id opens it to ``CHECK_PLAINTEXT``."""
    try:
        return crypto.decrypt(check_value) == CHECK_PLAINTEXT
    except crypto.DecryptionFailed:
        return False


def verify(connection, kid: str | None = None) -> None:
    """Refuse unless the key configured for ``kid`` (the active id by default) is the one the
    keyring records for it; record it the first time. Raises ``KeyNotConfigured`` or
    ``KeyMismatch`` (``crypto.EncryptionError``) before anything is written."""
    kid = kid or crypto.keyring().active_kid
    crypto.keyring().fernet(kid)
    token = (connection.alias, str(connection.settings_dict["NAME"]), kid, crypto.fingerprint(kid))
    if token in _verified:
        return
    with transaction.atomic(using=connection.alias):
        ensure_table(connection)
        check_value = _check_value(connection, kid)
        if check_value is None:
            _refuse_unless_existing_values_open(connection, kid)
            _record(connection, kid)
            check_value = _check_value(connection, kid)
        if not opens(check_value):
            raise crypto.KeyMismatch(mismatch(kid, connection.settings_dict["NAME"]))
    if connection.in_atomic_block:
        # Recorded inside the caller's transaction: trusted once that transaction commits.
        transaction.on_commit(lambda: _verified.add(token), using=connection.alias)
    else:
        _verified.add(token)


def mismatch(kid: str, database: str) -> str:
    return (
        f"the key configured for key id {kid!r} is not the key this database's keyring "
        f"(public.{TABLE} in {database!r}) recorded for that id: values sealed with it "
        "would sit under the same key id as values only the recorded key opens. Configure "
        "the key the database was written with, or give the new key a new key id "
        "(TOKEN_ENCRYPTION_KEYS, TOKEN_ENCRYPTION_ACTIVE_KID) and move the values with "
        "rotate_keys. Nothing was written."
    )


def _check_value(connection, kid: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT check_value FROM public.{TABLE} WHERE kid = %s", [kid])
        row = cursor.fetchone()
    return row[0] if row else None


def _record(connection, kid: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO public.{TABLE} (kid, check_value) VALUES (%s, %s) "
            "ON CONFLICT (kid) DO NOTHING",
            [kid, crypto.encrypt(CHECK_PLAINTEXT, kid=kid)],
        )


def _refuse_unless_existing_values_open(connection, kid: str) -> None:
    """Before a key id is first recorded: the configured key must open a few of the values
    each sealed column already holds under that id."""
    for relation, column in sealed_relations(connection):
        for value in _values_under(connection, relation, column, kid):
            try:
                crypto.decrypt(value)
            except crypto.DecryptionFailed:
                raise crypto.KeyMismatch(
                    f"the key configured for key id {kid!r} does not open the values "
                    f"{relation}.{column} already holds under that id, so it is not the key "
                    "they were written with. Configure that key (the keyring records it on "
                    "first use). Nothing was written."
                ) from None
            except crypto.InvalidEnvelope:
                continue


def sealed_relations(connection) -> list[tuple[str, str]]:
    """``(schema.table, column)`` of every column this database holds that seals values in
    envelopes: the encrypted fields' columns and the sealed archive columns."""
    from database.secrets import batches

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema || '.' || table_name, column_name "
            "FROM information_schema.columns WHERE table_schema IN ('public', %s)",
            [archive.SCHEMA],
        )
        present = {tuple(row) for row in cursor.fetchall()}
    wanted = [(f"public.{c.table}", c.column) for c in batches.encrypted_columns()]
    wanted += [(f"{archive.SCHEMA}.{t}", c) for t, c in archive.sealed_columns()]
    return [column for column in wanted if column in present]


def _values_under(connection, relation: str, column: str, kid: str) -> list[str]:
    schema, table = relation.split(".", 1)
    escaped = kid.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = sql.SQL(
        "SELECT {column}::text FROM {schema}.{table} WHERE {column}::text LIKE %s "
        "OR {column}::text LIKE %s LIMIT {limit}"
    ).format(
        column=sql.Identifier(column),
        schema=sql.Identifier(schema),
        table=sql.Identifier(table),
        limit=sql.Literal(EXISTING_SAMPLE),
    )
    patterns = [f'%"enc_kid":"{escaped}"%', f'%"enc_kid": "{escaped}"%']
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection), patterns)
        return [row[0] for row in cursor.fetchall()]
