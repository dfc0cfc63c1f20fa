"""The whole upgrade, as the project runs it and as raw SQL.

Project side: ``python manage.py migrate --fake-initial -v 2`` on a copy; Django prints each
migration's time, and the server logs every statement of that copy with its duration, which
times each batched backfill from its first batch to its last (``logged_backfills``).

Raw side: for every migration that ``migrate --fake-initial`` would apply (the legacy
``0001_initial`` migrations are faked), the statements ``sqlmigrate`` would print
(``MigrationLoader.collect_sql``) are executed one by one on another copy, in a transaction
for an atomic migration. What ``sqlmigrate`` cannot write as SQL is replaced by hand:

- a batched backfill (printed as a template with ``<placeholders>`` for its key bounds) by its
  one-statement equivalent ``UPDATE t SET c = <expression> WHERE c IS NULL [AND …]``;
- a one-pass rewrite of several columns (``RewriteOnce``: ``SET a = CASE WHEN … END, b = …``)
  by the naive upgrade's statements, one ``UPDATE`` per column as above, each rewriting the
  table; and, measured beside them but left out of the raw total, the single ``UPDATE`` of all
  its columns, run in a transaction rolled back (then ``VACUUM``, untimed, clears what it
  left), the baseline of the project's pass;
- a ``RunPython`` by the raw statements of ``RAW_PYTHON`` (``SEED``: a few rows of reference
  data, a group or Django's own fix-ups of its still empty tables, left out). A
  ``RunPython`` missing there is reported as not covered.

Each migration is collected just before it runs, against the database as the previous
migrations left it, as ``sqlmigrate`` would see it at that point.
"""

import re
import time
from dataclasses import dataclass, field

import psycopg
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from bench.monitor import RAW_APP, UPGRADE_APP
from bench.pg15 import Logged
from bench.process import Completed, manage

# The server logs every statement of the upgrade's sessions, with its duration.
LOG_EVERY_STATEMENT = "-c log_min_duration_statement=0"

SEED: tuple[str, ...] = ()
ENCRYPTION = "values are encrypted in Python (Fernet envelopes); SQL has no equivalent"
# migration label → per RunPython operation, in order: its raw statements, or (a string)
# the reason it has no raw equivalent. The archiving steps (accounts 0005, 0007, 0014) print
# their own statements, manifest included, and run as printed.
RAW_PYTHON: dict[str, list[tuple[str, ...] | str]] = {
    "contenttypes.0002_remove_content_type_name": [SEED],
    "auth.0011_update_proxy_permissions": [SEED],
    "database.0001_inspector_group": [SEED],
    "accounts.0003_seed_platform_configs": [SEED],
    "content.0004_seed_content_categories": [SEED],
    "social.0007_encrypt_tokens": [ENCRYPTION],
    "organizations.0002_seed_roles_and_permissions": [SEED],
}

CANNOT = "-- THIS OPERATION CANNOT BE WRITTEN AS SQL"
APPLIED = re.compile(r"Applying (\S+)\.\.\.(.*?) (OK|FAKED)(?: \(([\d.]+)s\))?", re.DOTALL)
# The rows a backfill reports at its end: "table.column: done, N rows written", or for a
# pass over several columns "table (a, b): done, N rows written".
BACKFILL_ROWS = re.compile(r"(\w+)(?:\.(\w+)| \(([\w, ]+)\)): done, (\d+) rows written")
# One batch of a backfill, as the server logs it: an UPDATE of a (schema-qualified) table
# bounded by its key column.
BACKFILL_BATCH = re.compile(
    r'^UPDATE (?:"?\w+"?\.)?"?(\w+)"? SET (.*?) WHERE "?\w+"? (?:>|<=)',
    re.IGNORECASE | re.DOTALL,
)
# A column a batch sets ("column" = ...), at the start of the SET list or after a comma.
SET_COLUMN = re.compile(r'(?:^|, )"?(\w+)"? = ')
# A batched backfill as sqlmigrate prints it: bounds as <placeholders>, then its condition.
BACKFILL_TEMPLATE = re.compile(
    r"UPDATE (\S+) SET (\S+) = (.+?) WHERE .*<[^<>]*>\s*(?:AND\s+)?(.*?);\s*$", re.DOTALL
)
# A one-pass rewrite as sqlmigrate prints it: CASE assignments, bounds as <placeholders>.
PASS_TEMPLATE = re.compile(
    r"UPDATE (\S+) SET (.+ END) WHERE .*<batch end> AND \((.*)\);\s*$", re.DOTALL
)
PASS_ASSIGNMENT = re.compile(r'"(\w+)" = CASE WHEN (.+?) THEN (.+?) ELSE "\1" END')


def pass_name(table: str, columns: list[str]) -> str:
    """``table.column``, or ``table.a+b`` for a pass writing several columns at once."""
    return f"{table}.{'+'.join(columns)}"


@dataclass
class Timed:
    """Rows written in so many seconds (a backfill, or one raw statement)."""

    rows: int
    seconds: float
    statements: int = 1
    busy: float = 0.0  # seconds spent inside the statements themselves

    @property
    def rows_per_second(self) -> float:
        return self.rows / max(self.seconds, 1e-9)


@dataclass
class ProjectUpgrade:
    run: Completed
    migrations: list[tuple[str, str, float]]  # (label, "OK"/"FAKED", seconds)
    reported_rows: dict[str, int]  # "table.column" → rows the backfill said it wrote


def project_upgrade(database_url: str, env: dict | None = None) -> ProjectUpgrade:
    """``migrate --fake-initial`` on the copy, timed; fails loudly if migrate fails."""
    run = manage(
        "migrate", "--fake-initial", "--no-input", "-v", "2",
        database_url=database_url, app_name=UPGRADE_APP, options=LOG_EVERY_STATEMENT, env=env,
    ).check()  # fmt: skip
    return ProjectUpgrade(run, parse_applied(run.stdout), parse_backfill_rows(run.stdout))


def parse_applied(output: str) -> list[tuple[str, str, float]]:
    return [
        (label, status, float(seconds or 0))
        for label, _, status, seconds in APPLIED.findall(output)
    ]


def parse_backfill_rows(output: str) -> dict[str, int]:
    return {
        pass_name(table, [column] if column else columns.split(", ")): int(rows)
        for table, column, columns, rows in BACKFILL_ROWS.findall(output)
    }


def logged_backfills(
    logged: list[Logged], reported: dict[str, int], table_rows: dict[str, int]
) -> dict[str, Timed]:
    """Each backfill's wall time, from its first batch's start to its last batch's end.

    ``logged`` is the server's log of the upgrade's statements; the time therefore includes
    the commits, pauses and VACUUMs between batches. Rows written: as the backfill reported
    them (``reported``), else every row of the table (``table_rows``, before the upgrade).
    """
    batches: dict[str, list[Logged]] = {}
    for statement in logged:
        if match := BACKFILL_BATCH.match(statement.text):
            name = pass_name(match[1], SET_COLUMN.findall(match[2]))
            batches.setdefault(name, []).append(statement)
    return {
        name: Timed(
            reported.get(name, table_rows.get(name.split(".")[0], 0)),
            max(s.ended for s in seen) - min(s.started for s in seen),
            len(seen),
            sum(s.ms for s in seen) / 1000,
        )
        for name, seen in batches.items()
    }


@dataclass
class RawMigration:
    label: str
    atomic: bool
    statements: list[str] = field(default_factory=list)
    backfills: dict[int, str] = field(default_factory=dict)  # statement index → table.column
    # statement index → pass name: timed in a transaction rolled back, out of the total
    measured_only: dict[int, str] = field(default_factory=dict)
    uncovered: list[str] = field(default_factory=list)
    seeds_left_out: int = 0
    failed: str = ""  # the error that stopped its statements (they are left out)


@dataclass
class RawUpgrade:
    migrations: list[RawMigration]
    seconds: float  # sum of the statements' own times
    per_migration: dict[str, float]
    backfills: dict[str, Timed]

    @property
    def uncovered(self) -> list[str]:
        return [f"{m.label}: {what}" for m in self.migrations for what in m.uncovered]

    @property
    def failed(self) -> list[str]:
        return [f"{m.label}: {m.failed}" for m in self.migrations if m.failed]


def raw_upgrade(alias: str, conninfo: str, only: set[str] | None = None) -> RawUpgrade:
    """Collect and run, migration by migration, the raw statements of the whole upgrade.

    ``only``: the labels to run (those the project's run applied), so that both sides run
    the same migrations even if the checkout gains one in between.
    """
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    plan = [
        migration
        for migration, _ in executor.migration_plan(targets)
        if not _faked(executor, migration)
        and (only is None or f"{migration.app_label}.{migration.name}" in only)
    ]
    done: list[RawMigration] = []
    per_migration: dict[str, float] = {}
    backfills: dict[str, Timed] = {}
    with psycopg.connect(conninfo, autocommit=True, application_name=RAW_APP) as conn:
        for migration in plan:
            raw = translate(migration, executor.loader.collect_sql([(migration, False)]))
            connection.close()  # no idle session of ours holds a lock during the DDL
            seconds, timings = execute(conn, raw)
            done.append(raw)
            if raw.failed:
                continue
            per_migration[raw.label] = seconds
            for index, name in (raw.backfills | raw.measured_only).items():
                backfills[name] = timings[index]
    return RawUpgrade(done, sum(per_migration.values()), per_migration, backfills)


def _faked(executor: MigrationExecutor, migration) -> bool:
    return bool(migration.initial) and executor.detect_soft_applied(None, migration)[0]


def translate(migration, collected: list[str]) -> RawMigration:
    """The runnable statements of ``collected``, with the substitutions described above."""
    label = f"{migration.app_label}.{migration.name}"
    raw = RawMigration(label, migration.atomic)
    by_hand = list(RAW_PYTHON.get(label, []))
    described = ""  # the last operation description sqlmigrate printed
    for item in collected:
        code = "\n".join(line for line in item.splitlines() if not line.startswith("--"))
        if item.strip() == CANNOT:
            _substitute(raw, by_hand, described)
        elif not code.strip():
            if item.strip() not in ("--", "-- (no-op)"):
                described = item.strip().removeprefix("-- ")
        elif match := PASS_TEMPLATE.search(code):
            _naive_pass(raw, *match.groups())
        elif match := BACKFILL_TEMPLATE.search(code):
            table, column, expression, condition = match.groups()
            name = pass_name(table.split(".")[-1].strip('"'), [column.strip('"')])
            raw.backfills[len(raw.statements)] = name
            where = condition.strip() or f"{column} IS NULL"
            raw.statements.append(f"UPDATE {table} SET {column} = {expression} WHERE {where}")
        else:
            raw.statements.append(code.strip())
    return raw


def _naive_pass(raw: RawMigration, table: str, assignments: str, conditions: str) -> None:
    """A one-pass rewrite: the single UPDATE of all its columns (measured only), then the
    naive upgrade's UPDATE per column."""
    columns = PASS_ASSIGNMENT.findall(assignments)
    name = pass_name(table.split(".")[-1].strip('"'), [column for column, _, _ in columns])
    raw.measured_only[len(raw.statements)] = name
    raw.statements.append(f"UPDATE {table} SET {assignments} WHERE {conditions}")
    for column, condition, expression in columns:
        raw.backfills[len(raw.statements)] = f"{name.split('.')[0]}.{column}"
        raw.statements.append(f'UPDATE {table} SET "{column}" = {expression} WHERE {condition}')


def _substitute(raw: RawMigration, by_hand: list[tuple[str, ...] | str], described: str) -> None:
    equivalent = by_hand.pop(0) if by_hand else "no raw equivalent written in bench yet"
    if isinstance(equivalent, str):
        raw.uncovered.append(
            f"{described or 'an operation sqlmigrate cannot write'} ({equivalent})"
        )
        return
    raw.seeds_left_out += equivalent == SEED
    raw.statements.extend(equivalent)


def execute(conn: psycopg.Connection, raw: RawMigration) -> tuple[float, list[Timed]]:
    """Run the statements (one transaction if the migration is atomic); their total time.

    A statement that fails (``sqlmigrate`` prints the SQL of operations the project skips on
    this server, such as the pgvector tables without the extension) stops its migration,
    which is then left out of the raw total and reported.
    """
    try:
        if raw.atomic:
            with conn.transaction():
                timings = [_timed(conn, statement) for statement in raw.statements]
        else:
            timings = [
                _rolled_back(conn, statement)
                if index in raw.measured_only
                else _timed(conn, statement)
                for index, statement in enumerate(raw.statements)
            ]
    except psycopg.Error as error:
        raw.failed = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:200]}"
        return 0.0, []
    kept = [t for index, t in enumerate(timings) if index not in raw.measured_only]
    return sum(t.seconds for t in kept), timings


def _rolled_back(conn: psycopg.Connection, statement: str) -> Timed:
    """``statement`` timed in a transaction rolled back, then the table vacuumed (untimed)."""
    try:
        with conn.transaction():
            timed = _timed(conn, statement)
            raise psycopg.Rollback()
    finally:
        table = statement.split()[1]
        conn.execute(f"VACUUM {table}")
    return timed


def _timed(conn: psycopg.Connection, statement: str) -> Timed:
    started = time.perf_counter()
    cursor = conn.execute(statement)
    seconds = time.perf_counter() - started
    return Timed(max(cursor.rowcount, 0), seconds, busy=seconds)
