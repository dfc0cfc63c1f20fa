"""The one batch engine: key ranges, one transaction a batch, lock-timeout retries.

Every batched change (backfills, conversions, encryption and rotation, re-sealing the
archive, clearing tokens) and every DDL statement of the online operations runs through here:

- ``key_ranges`` cuts a table into ``(after, upto]`` ranges of its key column: arithmetic
  ranges for an integer key over the whole table (cheap index range scans), else a keyset
  walk, ``batch_size`` keys a range, optionally among the rows matching a condition only;
- ``each_batch`` runs the work of each range in a transaction of its own and calls the
  throttle between batches;
- ``in_transaction`` runs one unit of work under ``SET LOCAL lock_timeout`` (so it also holds
  through a transaction-mode pooler) and retries it when the lock is busy, recognised by
  PostgreSQL's error class (``LockNotAvailable``), never by message text; exhausted retries
  raise ``LockRetriesExhausted``;
- progress goes to the callback the running command gives (``reporting_to``, the migrate
  command's own output), never to ``sys.stdout``.

Nothing here keeps state between batches: each batch only writes what still needs writing,
so a run killed at any point converges when run again.
"""

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from django.db import OperationalError, transaction
from psycopg import sql

from database.errors import LockRetriesExhausted

LOCK_TIMEOUT = "2s"
ATTEMPTS = 10  # a DDL statement: queues behind a long transaction for a minute at most
BATCH_ATTEMPTS = 5  # a batch: row locks of short transactions, and a re-run resumes

T = TypeVar("T")
Progress = Callable[[str], object]
Throttle = Callable[[], object]

_INTEGER_KEYS = ("integer", "bigint", "smallint")
# The schema of a table named without one: every operation and batch takes ``schema=``.
DEFAULT_SCHEMA = "public"
_reporter: contextvars.ContextVar[Progress | None] = contextvars.ContextVar(
    "batch_progress", default=None
)


class NeedsNonAtomicMigration(RuntimeError):
    pass


# ---------------------------------------------------------------------------- progress


@contextlib.contextmanager
def reporting_to(progress: Progress):
    """Send the progress of the batches run inside the block to ``progress``."""
    token = _reporter.set(progress)
    try:
        yield
    finally:
        _reporter.reset(token)


def progress_callback(progress: Progress | None = None) -> Progress:
    """``progress`` if given, else the running command's (``reporting_to``), else silence."""
    return progress or _reporter.get() or (lambda line: None)


def sleeping(pause: float) -> Throttle:
    """The throttle of the ``pause``/``--pause`` settings: a fixed sleep between batches."""
    return (lambda: time.sleep(pause)) if pause else (lambda: None)


# ---------------------------------------------------------------------------- key ranges


@dataclass(frozen=True)
class Table:
    """A table and the key column its batches are cut along."""

    name: str
    key: str = "id"
    schema: str = DEFAULT_SCHEMA

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema, self.name)

    def qualified(self, name: str) -> sql.Identifier:
        """Another object of the table's schema (an index, a function)."""
        return sql.Identifier(self.schema, name)

    @property
    def label(self) -> str:
        """The table as an operator reads it: schema-qualified outside the default schema."""
        return self.name if self.schema == DEFAULT_SCHEMA else f"{self.schema}.{self.name}"

    @property
    def key_identifier(self) -> sql.Identifier:
        return sql.Identifier(self.key)

    @classmethod
    def of_model(cls, model, schema: str = DEFAULT_SCHEMA) -> "Table":
        """The table of a model (from the migration state or the registry), cut by its pk."""
        return cls(model._meta.db_table, model._meta.pk.column, schema)


def table_in_state(state, name: str, schema: str = DEFAULT_SCHEMA) -> Table:
    """``name`` with the key column its model has in the migration ``state``; ``id`` when no
    model of the state has that table (a table the state does not know, or no state)."""
    for (app_label, model_name), model in getattr(state, "models", {}).items():
        if model.options.get("db_table", f"{app_label}_{model_name}") != name:
            continue
        for field_name, field in model.fields.items():
            if field.primary_key:
                return Table(name, field.db_column or field_name, schema)
    return Table(name, "id", schema)


@dataclass(frozen=True)
class KeyRange:
    """The keys ``after < key <= upto``; ``after`` is None for the first range of a walk."""

    after: Any
    upto: Any

    def condition(self, table: Table) -> sql.Composable:
        key = table.key_identifier
        upto = sql.SQL("{} <= {}").format(key, sql.Literal(self.upto))
        if self.after is None:
            return upto
        return sql.SQL("{} > {} AND {}").format(key, sql.Literal(self.after), upto)


def column_type(connection, table: Table, column: str) -> str | None:
    """The type of ``table.column`` as PostgreSQL names it, with its modifier
    (``character varying(255)``); None when the table has no such column."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute "
            "WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped",
            [table.identifier.as_string(_raw(connection)), column],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def key_ranges(
    connection, table: Table, batch_size: int, among: sql.Composable | None = None
) -> Iterator[KeyRange]:
    """Ranges that cover ``table``, ``batch_size`` keys each (of rows matching ``among``)."""
    key_type = column_type(connection, table, table.key)
    if key_type is None:
        raise LookupError(f"no key column {table.key} in {table.schema}.{table.name}")
    if among is None and key_type in _INTEGER_KEYS:
        yield from _arithmetic_ranges(connection, table, batch_size)
    else:
        yield from _keyset_ranges(connection, table, batch_size, among or sql.SQL("true"))


def _arithmetic_ranges(connection, table: Table, batch_size: int) -> Iterator[KeyRange]:
    bounds = sql.SQL("SELECT min({k}), max({k}) FROM {t}").format(
        k=table.key_identifier, t=table.identifier
    )
    low, high = _fetch_one(connection, bounds)
    if low is None:
        return
    for after in range(low - 1, high, batch_size):
        yield KeyRange(after, min(after + batch_size, high))


def _keyset_ranges(connection, table: Table, batch_size: int, among) -> Iterator[KeyRange]:
    key = table.key_identifier

    def step(previous: KeyRange | None) -> sql.Composable:
        condition = among
        if previous is not None:
            condition = sql.SQL("{} AND {} > {}").format(among, key, sql.Literal(previous.upto))
        # The last of the next batch_size keys (max() is not defined for every key type).
        return sql.SQL(
            "SELECT {k} FROM (SELECT {k} FROM {t} WHERE {c} ORDER BY {k} LIMIT {n}) b "
            "ORDER BY {k} DESC LIMIT 1"
        ).format(k=key, t=table.identifier, c=condition, n=sql.Literal(batch_size))

    previous = None
    while (last := _fetch_one(connection, step(previous))) is not None:
        previous = KeyRange(previous.upto if previous else None, last[0])
        yield previous


# ---------------------------------------------------------------------------- batches


def each_batch(
    connection,
    table: Table,
    work: Callable[[Any, KeyRange], T],
    *,
    batch_size: int,
    among: sql.Composable | None = None,
    throttle: Throttle = lambda: None,
    statement: str = "",
) -> Iterator[tuple[KeyRange, T]]:
    """``work(cursor, key_range)`` for each range, each in a transaction of its own under the
    lock timeout, retried when the lock is busy; ``throttle()`` between batches.

    ``statement``: what a batch runs, as the operator should read it when the lock retries
    are exhausted (its tables name the sessions that held the locks).
    """
    statement = statement or f"batches over {table.schema}.{table.name}"
    refuse_atomic_block(connection, statement)
    first = True
    for key_range in key_ranges(connection, table, batch_size, among):
        if not first:
            throttle()
        first = False
        result = in_transaction(
            connection,
            lambda cursor, key_range=key_range: work(cursor, key_range),
            statement,
            attempts=BATCH_ATTEMPTS,
        )
        yield key_range, result


def refuse_atomic_block(connection, statement: str) -> None:
    """Inside an atomic block the batches would be savepoints of one long transaction holding
    every row lock to its end."""
    if connection.in_atomic_block:
        raise NeedsNonAtomicMigration(
            f"'{statement}' runs in batches, one transaction each: it needs autocommit, a "
            "migration with atomic = False (RunPython(..., atomic=False) for Python)."
        )


def in_transaction(
    connection, work: Callable[[Any], T], statement: str, *, attempts: int | None = None
) -> T:
    """``work(cursor)`` in one transaction under ``SET LOCAL lock_timeout``, retried."""

    def attempt() -> T:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            return work(cursor)

    return with_lock_retries(connection, attempt, statement, attempts=attempts)


def with_lock_retries(
    connection, attempt: Callable[[], T], statement: str, *, attempts: int | None = None
) -> T:
    """``attempt()``, retried with a growing pause while it times out waiting for a lock;
    ``attempts`` in all (``ATTEMPTS`` by default)."""
    attempts = attempts or ATTEMPTS
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except OperationalError as error:
            if not is_lock_timeout(error):
                raise
            if number == attempts:
                raise LockRetriesExhausted(connection, statement, attempts) from error
            time.sleep(min(0.2 * 2**number, 10))
    raise AssertionError("unreachable")


def is_lock_timeout(error: BaseException) -> bool:
    return isinstance(error.__cause__, psycopg.errors.LockNotAvailable)


# ---------------------------------------------------------------------------- helpers


def _raw(connection):
    connection.ensure_connection()
    return connection.connection


def _fetch_one(connection, query: sql.Composable):
    """One row of a query that reads the table: under the lock timeout like the batches."""
    text = query.as_string(_raw(connection))

    def read(cursor):
        cursor.execute(text)
        return cursor.fetchone()

    return in_transaction(connection, read, text, attempts=BATCH_ATTEMPTS)
