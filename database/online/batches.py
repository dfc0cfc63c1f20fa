"""The one batch engine: key ranges, one transaction a batch, lock-timeout retries.

Every batched change (backfills, conversions, encryption and rotation, re-sealing the
archive, clearing tokens) and every DDL statement of the online operations runs through here:

- ``key_ranges`` cuts a table into ``(after, upto]`` ranges of its key column: arithmetic
  ranges for an integer key over the whole table (cheap index range scans), else a keyset
  walk, ``batch_size`` keys a range, optionally among the rows matching a condition only;
- ``each_batch`` runs the work of each range in a transaction of its own and calls the
  throttle between batches (``throttling``: the pause, then waits while a streaming standby
  replays more than ``MIGRATE_MAX_REPLICA_LAG_BYTES`` behind);
- ``in_transaction`` runs one unit of work under ``SET LOCAL lock_timeout`` (so it also holds
  through a transaction-mode pooler) and retries it when the lock is busy, recognised by
  PostgreSQL's error class (``LockNotAvailable``), never by message text; exhausted retries
  raise ``LockRetriesExhausted``. A DDL statement first waits out the vacuums of the tables
  it names, behind a lock the application never queues behind;
- progress goes to the callback the running command gives (``reporting_to``, the migrate
  command's own output), never to ``sys.stdout``.

Nothing here keeps state between batches: each batch only writes what still needs writing,
so a run killed at any point converges when run again.
"""

import contextlib
import contextvars
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.core.management.base import CommandError
from django.db import OperationalError, transaction
from psycopg import sql

from database import errors
from database.errors import LockRetriesExhausted, StandbyLagWaitExhausted

LOCK_TIMEOUT = "2s"  # a batch's; the longest a DDL statement waits (``ddl_lock_timeout``)
FIRST_DDL_LOCK_TIMEOUT_MS = 100
MAINTENANCE_LOCK_TIMEOUT = "1min"  # waiting out a vacuum (``in_transaction``'s ``tables``)
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


# ---------------------------------------------------------------------------- throttle

LAG_POLL_SECONDS = 0.1
LAG_REPORT_EVERY = 10.0  # seconds between two progress lines of one wait
_unreadable_reported: set[str] = set()

# The attached physical standbys (logical walsenders and base backups left out): how many
# bytes of WAL each has still to replay, and its replay_lag. For a role without
# pg_read_all_stats (pg_monitor) every column but pid is NULL: ``state IS NULL`` says so.
STANDBY_LAG = """
SELECT r.application_name, r.client_addr::text, r.state IS NULL,
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint,
       extract(epoch FROM r.replay_lag)::float8,
       pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint
FROM pg_catalog.pg_stat_replication AS r
WHERE r.state IS DISTINCT FROM 'backup'
  AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_replication_slots AS s
      WHERE s.active_pid = r.pid AND s.slot_type = 'logical')
"""


@dataclass(frozen=True)
class StandbyLag:
    """One streaming standby: WAL bytes it has yet to replay, and its ``replay_lag``;
    ``position``: the primary's WAL position when it was read."""

    name: str
    behind_bytes: int
    behind_seconds: float | None
    position: int = 0

    def __str__(self) -> str:
        seconds = (
            "" if self.behind_seconds is None else f", replay_lag {self.behind_seconds:.1f} s"
        )
        return f"standby {self.name} ({megabytes(self.behind_bytes)} behind{seconds})"


def megabytes(count: int) -> str:
    return f"{count / 2**20:.1f} MB"


def throttling(connection, pause: float = 0.0, progress: Progress | None = None) -> Throttle:
    """The throttle between batches: sleep ``pause`` (the ``pause``/``--pause`` settings), then
    wait while a streaming standby of the server lags more than ``MIGRATE_MAX_REPLICA_LAG_BYTES``
    less the most WAL a batch has written so far (``BatchWal``), so that the lag stays within
    the bound after the next batch too. A batch writing more than three quarters of the bound
    waits for a quarter of it.

    The lag is read on the primary, from ``pg_stat_replication``, as bytes of WAL the standby
    has not replayed yet (``pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)``): that is
    what each batch adds to and what the standby must work off, and it grows while replay is
    stuck. ``replay_lag`` is only a time measured on WAL already replayed: it stays at its
    last value while replay stands still and is NULL on a quiet server, so it is reported
    beside the bytes, never waited on. One query per batch, none without a bound (0).

    A wait longer than ``MIGRATE_REPLICA_WAIT_SECONDS`` raises ``StandbyLagWaitExhausted``
    (exit 10): a standby that cannot come back within the bound in that time is stuck or
    paused, and going on would push it further behind than the operator allowed; work
    committed so far is kept and a re-run resumes. A role that cannot read the lag (neither
    superuser nor pg_monitor) gets the pause alone, said once in the progress.
    """
    report = progress_callback(progress)
    bound, max_wait = replica_lag_settings()
    written = BatchWal()

    def throttle() -> None:
        if pause:
            time.sleep(pause)
        if bound:
            wait_for_standbys(connection, bound, max_wait, report, written)

    return throttle


@dataclass
class BatchWal:
    """The primary's WAL position when the throttle last let a batch go, and the most WAL
    written between two throttles: what the next batch is expected to add to the lag."""

    position: int | None = None
    largest: int = 0

    def expected(self, position: int) -> int:
        if self.position is not None:
            self.largest = max(self.largest, position - self.position)
        return self.largest


def replica_lag_settings() -> tuple[int, float]:
    """``MIGRATE_MAX_REPLICA_LAG_BYTES`` (0: no wait) and ``MIGRATE_REPLICA_WAIT_SECONDS``."""
    texts = (
        str(settings.MIGRATE_MAX_REPLICA_LAG_BYTES),
        str(settings.MIGRATE_REPLICA_WAIT_SECONDS),
    )
    try:
        bound, max_wait = int(texts[0]), float(texts[1])
    except ValueError:
        bound, max_wait = -1, float("nan")
    if bound < 0 or not max_wait > 0:  # also refuses nan
        raise CommandError(
            f"MIGRATE_MAX_REPLICA_LAG_BYTES is {texts[0]!r} and MIGRATE_REPLICA_WAIT_SECONDS "
            f"is {texts[1]!r}: the first must be a whole number of bytes, at least 0 (0 turns "
            "the wait off; the default is 16777216, 16 MB), the second a number of seconds "
            "above 0 (the default is 300). Nothing more was run.",
            returncode=errors.CANNOT_RUN,
        )
    return bound, max_wait


def standby_lags(connection) -> list[StandbyLag] | None:
    """The lag of each attached streaming standby; None when this role cannot read it."""
    with connection.cursor() as cursor:
        cursor.execute(STANDBY_LAG)
        rows = cursor.fetchall()
    if any(hidden for _, _, hidden, _, _, _ in rows):
        return None
    return [
        StandbyLag(
            f"'{name or '?'}'" + (f" at {address}" if address else ""), behind, seconds, position
        )
        for name, address, _, behind, seconds, position in rows
        if behind is not None
    ]


def wait_for_standbys(
    connection, bound: int, max_wait: float, report: Progress, written: BatchWal | None = None
) -> None:
    """Return once no standby lags more than ``bound`` bytes less what the next batch is
    expected to write (``written``; never less than a quarter of ``bound``); short sleeps,
    re-reading."""
    started = last_report = time.monotonic()
    waited = False
    allowed = None
    while True:
        lags = standby_lags(connection)
        if lags is None:
            _report_unreadable(connection, report)
            return
        if not lags:
            return
        if allowed is None:
            ahead = written.expected(lags[0].position) if written else 0
            allowed = max(bound - ahead, bound // 4)
        over = [lag for lag in lags if lag.behind_bytes > allowed]
        now = time.monotonic()
        if not over:
            if waited:
                report(f"  standbys within {megabytes(bound)} again after {now - started:.1f} s")
            if written:
                written.position = lags[0].position
            return
        worst = max(over, key=lambda lag: lag.behind_bytes)
        if now - started > max_wait:
            raise StandbyLagWaitExhausted(str(worst), bound, max_wait, bound - allowed)
        if not waited or now - last_report >= LAG_REPORT_EVERY:
            report(f"  waiting for {worst}: {_too_far(bound, allowed)}")
            last_report = now
        waited = True
        time.sleep(LAG_POLL_SECONDS)


def _too_far(bound: int, allowed: int) -> str:
    limit = f"more than {megabytes(bound)} (MIGRATE_MAX_REPLICA_LAG_BYTES)"
    if allowed == bound:
        return limit
    expected = megabytes(bound - allowed)
    return f"{limit} with the next batch's WAL ({expected}, the most a batch has written)"


def _report_unreadable(connection, report: Progress) -> None:
    known = connection.settings_dict
    where = f"{connection.alias}:{known.get('USER')}@{known.get('NAME')}"
    if where in _unreadable_reported:
        return
    _unreadable_reported.add(where)
    report(
        "  a standby is attached but this role cannot read its lag in pg_stat_replication "
        "(it needs pg_monitor): batches pause between them without waiting for it"
    )


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
    throttle: Throttle | None = None,
    statement: str = "",
) -> Iterator[tuple[KeyRange, T]]:
    """``work(cursor, key_range)`` for each range, each in a transaction of its own under the
    lock timeout, retried when the lock is busy; ``throttle()`` between batches (by default
    ``throttling(connection)``: no pause, the standbys' lag).

    ``statement``: what a batch runs, as the operator should read it when the lock retries
    are exhausted (its tables name the sessions that held the locks).
    """
    statement = statement or f"batches over {table.schema}.{table.name}"
    refuse_atomic_block(connection, statement)
    throttle = throttle or throttling(connection)
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


def ddl_lock_timeout(number: int) -> str:
    """The lock timeout of a DDL statement's ``number``th attempt.

    While a statement waits for its table lock, every query of the table queues behind it,
    so it gives up early at first (100 ms, twice) and doubles every second attempt up to
    ``LOCK_TIMEOUT``: a brief conflict costs the application 100-200 ms, and only a lock
    held for many seconds gets the longer waits (a 2 s first attempt stalled the
    benchmark's writer for 997 ms at 5M rows). A vacuum of the tables the statement names
    is waited out before any attempt, behind a lock nobody queues behind (``in_transaction``).
    """
    longest = _milliseconds(LOCK_TIMEOUT)
    return f"{min(FIRST_DDL_LOCK_TIMEOUT_MS * 2 ** ((number - 1) // 2), longest)}ms"


def _milliseconds(timeout: str) -> int:
    if timeout.endswith("ms"):
        return int(timeout.removesuffix("ms"))
    return round(float(timeout.removesuffix("s")) * 1000)


def in_transaction(
    connection,
    work: Callable[[Any], T],
    statement: str,
    *,
    attempts: int | None = None,
    ddl: bool = False,
    tables: Sequence[Table] = (),
) -> T:
    """``work(cursor)`` in one transaction under ``SET LOCAL lock_timeout``, retried; a
    ``ddl`` statement's timeout grows with its attempts (``ddl_lock_timeout``).

    ``tables`` are the existing tables ``work`` locks: the transaction first takes them
    SHARE UPDATE EXCLUSIVE, under ``MAINTENANCE_LOCK_TIMEOUT``. That is a vacuum's lock:
    waiting for it queues none of the application's reads and writes, PostgreSQL cancels an
    autovacuum that holds it after ``deadlock_timeout``, and none starts on the table until
    the transaction ends. ``work``'s own lock then waits for the application only.
    """

    def attempt(number: int) -> T:
        timeout = ddl_lock_timeout(number) if ddl else LOCK_TIMEOUT
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if tables:
                _wait_out_maintenance(cursor, tables)
            cursor.execute(f"SET LOCAL lock_timeout = '{timeout}'")
            return work(cursor)

    return with_lock_retries(connection, attempt, statement, attempts=attempts)


def _wait_out_maintenance(cursor, tables: Sequence[Table]) -> None:
    cursor.execute(f"SET LOCAL lock_timeout = '{MAINTENANCE_LOCK_TIMEOUT}'")
    names = sql.SQL(", ").join(table.identifier for table in tables)
    cursor.execute(
        sql.SQL("LOCK TABLE {} IN SHARE UPDATE EXCLUSIVE MODE")
        .format(names)
        .as_string(cursor.connection)
    )


def with_lock_retries(
    connection, attempt: Callable[[int], T], statement: str, *, attempts: int | None = None
) -> T:
    """``attempt(number)``, retried with a growing pause while it times out waiting for a
    lock; ``attempts`` in all (``ATTEMPTS`` by default)."""
    attempts = attempts or ATTEMPTS
    for number in range(1, attempts + 1):
        try:
            return attempt(number)
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
