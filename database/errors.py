"""One place that turns every operational failure into one paragraph and an exit code.

Every management command the project ships or overrides mixes in ``ReportsFailures``: a bad
flag, an unusable ``DATABASE_URL``, a server it cannot reach or use, a read-only server or hot
standby (refused up front by commands that write), exhausted lock retries, a deadlock, a
recovery conflict, a statement timeout or a standby that stayed too far behind each end the
command with one paragraph on stderr and the exit code documented here (and in the README);
anything else keeps Django's own report.
"""

import argparse
import contextlib
import re
import sys
from collections.abc import Iterator

import psycopg
from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.connection import ConnectionDoesNotExist

from config.database_urls import url_variable

# Exit codes shared by every command (README, "Exit codes"). 1 is the command's own verdict
# (findings, a stale file, a failed migration); 4 and 5 belong to ``migrate``.
CANNOT_RUN = 2  # setup: URL, server, credentials, database, role, permission, keys
USAGE = 3  # a bad flag or option value
READ_ONLY = 6  # a command that writes, aimed at a read-only server or a hot standby
LOCK_WAIT = 7  # lock retries exhausted: another session holds the lock
CONFLICT = 8  # deadlock or recovery conflict: the server cancelled this command's transaction
TIMED_OUT = 9  # statement timeout (or a cancel request)
STANDBY_LAG = 10  # a standby stayed further behind than MIGRATE_MAX_REPLICA_LAG_BYTES too long

_HINTS = [
    ("password authentication failed", "The server rejected the credentials."),
    ("no password supplied", "The server asks for a password and none was given."),
    ("role", "The user named in the connection settings does not exist on the server."),
    ("does not exist", "The database named in the connection settings does not exist."),
    ("permission denied", "The connected user lacks a permission this command needs."),
    ("connection refused", "Nothing is listening at that address: is the server running?"),
    ("no such file or directory", "No server socket at that path: is the server running?"),
    ("could not translate host name", "The host name cannot be resolved."),
    ("timeout expired", "The server did not answer in time."),
    ("server closed the connection", "The server ended the connection."),
]


def check_url(alias: str) -> str:
    if alias == DEFAULT_DB_ALIAS and settings.EMBEDDED_DATABASE:
        return "DATABASE_URL is unset, so this is the embedded server under .pgdata/."
    return f"Check {url_variable(alias)}."


class LockRetriesExhausted(Exception):
    """A statement gave up waiting for its locks after every retry; ``blockers`` describes the
    sessions that held locks on its tables right then (read while they still hold them)."""

    def __init__(self, connection, statement: str, attempts: int):
        self.statement = statement
        self.attempts = attempts
        self.blockers = blocking_sessions(connection, statement)
        super().__init__(f"lock retries exhausted after {attempts} attempts: {statement}")


class StandbyLagWaitExhausted(Exception):
    """The batches waited ``waited`` seconds for a standby to replay within ``bound`` bytes."""

    def __init__(self, standby: str, bound: int, waited: float, next_batch: int = 0):
        self.standby, self.bound, self.waited = standby, bound, waited
        self.next_batch = next_batch  # bytes of WAL the next batch was expected to add
        super().__init__(
            f"{standby} stayed more than {bound - next_batch} bytes behind for {waited:g} s"
        )


class ReportsFailures:
    """Mixin for ``BaseCommand``: operational failures become one paragraph and an exit code.

    ``writes(options)`` says whether this run changes the database: if so, a read-only server
    or hot standby is refused before anything runs. ``uses_database = False`` for commands
    that never connect.
    """

    uses_database = True

    def writes(self, options: dict) -> bool:
        return True

    def create_parser(self, prog_name, subcommand, **kwargs) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = lambda message: _usage_error(parser, message)
        return parser

    def execute(self, *args, **options):
        if not self.uses_database:
            return super().execute(*args, **options)
        alias = options.get("database") or DEFAULT_DB_ALIAS
        connection = _connection(alias)
        with reported(connection):
            if self.writes(options):
                refuse_read_only(connection)
            return super().execute(*args, **options)


def positive_int(text: str) -> int:
    """An argparse type: a bad value is a usage error (exit 3) found before connecting."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return value


def _usage_error(parser: CommandParser, message: str):
    """A bad flag or value exits 3 (argparse's own 2 means "cannot run" here)."""
    if parser.called_from_command_line:
        parser.print_usage(sys.stderr)
        sys.stderr.write(f"{parser.prog}: error: {message}\n")
        sys.exit(USAGE)
    raise CommandError(f"Error: {message}", returncode=USAGE)


def _connection(alias: str):
    try:
        connection = connections[alias]
    except ConnectionDoesNotExist:
        raise CommandError(
            f"Unknown database alias '{alias}' (configured: {', '.join(connections)}). "
            "More aliases come from the environment: DATABASE_REPLICA_URL is 'replica'.",
            returncode=USAGE,
        ) from None
    problem = connection.settings_dict.get("URL_PROBLEM")
    if problem:
        raise CommandError(problem, returncode=CANNOT_RUN)
    return connection


def refuse_read_only(connection) -> None:
    """Refuse, before anything runs, to write to a hot standby or a read-only server."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'"
        )
        in_recovery, read_only = cursor.fetchone()
    if not (in_recovery or read_only):
        return
    what = (
        "is a hot standby (pg_is_in_recovery() is true): it replays the primary and accepts "
        "no writes"
        if in_recovery
        else "accepts no writes (transaction_read_only is on, e.g. through "
        "default_transaction_read_only)"
    )
    raise CommandError(
        f"Refusing to run on database {_target(connection.settings_dict)}: it {what}. "
        "Nothing was run. Point DATABASE_URL (or --database) at the primary; read-only "
        "commands such as check_integrity can use this server.",
        returncode=READ_ONLY,
    )


@contextlib.contextmanager
def reported(connection) -> Iterator[None]:
    """Turn an operational failure inside the block into a one-paragraph CommandError."""
    try:
        yield
    except CommandError:
        raise
    except Exception as error:
        explained = explain(error, connection.settings_dict, connection.alias)
        if explained is None:
            raise
        returncode, paragraph = explained
        raise CommandError(paragraph, returncode=returncode) from None


def explain(
    error: BaseException, settings_dict: dict, alias: str = DEFAULT_DB_ALIAS
) -> tuple[int, str] | None:
    """The exit code and paragraph for an operational failure; None for anything else."""
    if isinstance(error, LockRetriesExhausted):
        return LOCK_WAIT, _lock_wait(error, settings_dict)
    if isinstance(error, StandbyLagWaitExhausted):
        return STANDBY_LAG, _standby_lag(error, settings_dict)
    cause = root_cause(error)
    if cause is None:
        return None
    detail = _detail(cause)
    target = _target(settings_dict)
    if isinstance(cause, psycopg.errors.DeadlockDetected):
        who = " ".join((cause.diag.message_detail or "").split())
        detail = f"{detail} ({who})" if who else detail
        return CONFLICT, (
            f"PostgreSQL found a deadlock between this command and another session on "
            f"{target} and cancelled this command's transaction: {detail}. Work committed "
            "before it is kept; run the command again (it resumes where it stopped)."
        )
    if "conflict with recovery" in detail.lower():
        return CONFLICT, (
            f"The hot standby {target} cancelled a query that conflicted with the changes it "
            f"replays from the primary: {detail}. Run again, or on the standby raise "
            "max_standby_streaming_delay or turn on hot_standby_feedback."
        )
    if isinstance(cause, psycopg.errors.SerializationFailure):
        return CONFLICT, (
            f"The server cancelled this command's transaction on {target} because it "
            f"conflicted with another one: {detail}. Run the command again."
        )
    if isinstance(cause, psycopg.errors.LockNotAvailable):
        return LOCK_WAIT, (
            f"A statement on {target} gave up waiting for a lock another session holds: "
            f"{detail}. Nothing more was run; run again once that session has finished."
        )
    if isinstance(cause, psycopg.errors.QueryCanceled):
        return TIMED_OUT, (
            f"A statement on {target} was cancelled before it finished: {detail}. If the "
            "server or the role sets a statement_timeout, raise it for this run (e.g. "
            "PGOPTIONS='-c statement_timeout=0'); work committed before it is kept and a "
            "re-run resumes."
        )
    if isinstance(cause, psycopg.errors.ReadOnlySqlTransaction):
        return READ_ONLY, (
            f"Database {target} refused a write: {detail}. It is read-only (or a standby); "
            f"point {url_variable(alias)} (or --database) at the primary."
        )
    if isinstance(cause, psycopg.errors.InsufficientPrivilege):
        return CANNOT_RUN, (
            f"Cannot use database {target}: {detail}. The connected user lacks a permission "
            "this command needs: run it as the owner of the schema (or grant the permission)."
        )
    if isinstance(cause, psycopg.OperationalError) and cause.sqlstate is None:
        return CANNOT_RUN, describe(cause, settings_dict, alias)  # no server answer: connecting
    if isinstance(cause, _CONNECTION_REFUSED):
        return CANNOT_RUN, describe(cause, settings_dict, alias)
    return None


# Server answers that end or refuse the session: missing database or role, shutdown, startup.
_CONNECTION_REFUSED = (
    psycopg.errors.InvalidCatalogName
    | psycopg.errors.InvalidAuthorizationSpecification
    | psycopg.errors.OperatorIntervention  # admin shutdown, crash, "starting up"
)


def root_cause(error: BaseException) -> psycopg.Error | None:
    """The first psycopg error in ``error``'s chain that is not a follow-on one.

    A failed statement aborts its transaction; cleanup run while the error propagates (a lock
    release, a rollback to a savepoint) then fails with "current transaction is aborted" and
    becomes the error raised. The real cause is in the chain: report that one.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    follow_on = None
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, psycopg.errors.InFailedSqlTransaction):
            follow_on = follow_on or current
        elif isinstance(current, psycopg.Error):
            return current
        pending += [current.__cause__, current.__context__]
    return follow_on


def _detail(error: BaseException) -> str:
    """The error's message on one line, without its final full stop (the server's primary
    message only: its "LINE 1: … ^" pointer means nothing on one line)."""
    diag = getattr(error, "diag", None)
    message = (diag and diag.message_primary) or str(error)
    return " ".join(message.split()).rstrip(".")


def describe(error: BaseException, settings_dict: dict, alias: str = DEFAULT_DB_ALIAS) -> str:
    """One paragraph: what failed, where, the likely reason, and what to check."""
    detail = _detail(error)
    lowered = detail.lower()
    hint = next((text for needle, text in _HINTS if needle in lowered), "")
    return " ".join(
        part
        for part in (
            f"Cannot use database {_target(settings_dict)}: {detail}"
            + ("" if detail.endswith("?") else "."),
            hint,
            check_url(alias),
        )
        if part
    )


def _target(settings_dict: dict) -> str:
    host = (
        settings_dict.get("HOST") or settings_dict.get("OPTIONS", {}).get("host") or "local socket"
    )
    port = settings_dict.get("PORT") or settings_dict.get("OPTIONS", {}).get("port")
    port = f":{port}" if port else ""
    user = settings_dict.get("USER") or ""
    return f"'{settings_dict.get('NAME')}' at {host}{port} as user '{user}'"


def _lock_wait(error: LockRetriesExhausted, settings_dict: dict) -> str:
    statement = _shorten(error.statement)
    if error.blockers:
        held = "; ".join(
            f"pid {pid} ({state}, transaction open for {age}s, holding {locks}), "
            f"its last query: {_shorten(query)}"
            for pid, state, age, locks, query in error.blockers
        )
        blockers = f"Sessions holding locks on its tables: {held}."
    else:
        blockers = "The session that held the lock had finished by the time it was looked up."
    return (
        f"Gave up after {error.attempts} attempts to take the locks for '{statement}' on "
        f"{_target(settings_dict)}: another session kept them. {blockers} Nothing was left "
        "half-done: work committed before it is kept and a re-run resumes. End or wait for "
        "that session (pg_terminate_backend(pid) if it is stuck), then run again."
    )


def _standby_lag(error: StandbyLagWaitExhausted, settings_dict: dict) -> str:
    return (
        f"Stopped between two batches on {_target(settings_dict)}: {error.standby} and stayed "
        f"more than {error.bound / 2**20:.1f} MB behind (MIGRATE_MAX_REPLICA_LAG_BYTES)"
        f"{_with_next_batch(error)} for {error.waited:g} s (MIGRATE_REPLICA_WAIT_SECONDS): its "
        "replay is paused, stuck or slower than the writes. Work committed before is kept and "
        "a re-run resumes. Resume or fix the standby (pg_wal_replay_resume() if it is "
        "paused), or raise the bound (0 turns the wait off), then run again."
    )


def _with_next_batch(error: StandbyLagWaitExhausted) -> str:
    if not error.next_batch:
        return ""
    wrote = error.next_batch / 2**20
    return f" once the next batch's WAL is added ({wrote:.1f} MB, the most a batch has written)"


def _shorten(text: str, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_IDENTIFIER = re.compile(r'"((?:[^"]|"")+)"|\b([A-Za-z_][A-Za-z0-9_$]*)\b')


def blocking_sessions(connection, statement: str) -> list[tuple]:
    """Other sessions holding locks on the tables ``statement`` names (or on the tables of the
    indexes it names): pid, state, seconds the transaction has been open, locks, last query.

    Read right after the last wait gave up: nothing waits any more, so pg_blocking_pids()
    has nothing to say, but the sessions that blocked still hold their locks.
    """
    names = sorted(
        {quoted.replace('""', '"') or bare for quoted, bare in _IDENTIFIER.findall(statement)}
    )
    query = """
        WITH named AS (
            SELECT c.oid FROM pg_catalog.pg_class c
            WHERE c.relname = ANY(%s) AND pg_catalog.pg_table_is_visible(c.oid)
        ), tables AS (
            SELECT oid FROM named
            UNION
            SELECT x.indrelid FROM pg_catalog.pg_index x
            JOIN named ON x.indexrelid = named.oid
        )
        SELECT a.pid, a.state,
               round(extract(epoch FROM now() - a.xact_start)::numeric, 1),
               string_agg(DISTINCT l.mode || ' on ' || l.relation::regclass::text, ', '),
               a.query
        FROM pg_catalog.pg_locks l
        JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
        WHERE l.granted AND l.relation IN (SELECT oid FROM tables)
          AND l.pid <> pg_catalog.pg_backend_pid()
        GROUP BY a.pid, a.state, a.xact_start, a.query
        ORDER BY a.xact_start
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, [names])
            return cursor.fetchall()
    except Exception:  # describing the blockers must never hide the lock wait itself
        return []
