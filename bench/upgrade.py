"""The whole upgrade, as the project runs it and as raw SQL.

Project side: ``python manage.py migrate --fake-initial -v 2`` on a copy; Django prints each
migration's time, and ``database.online.backfill`` prints each backfill's rows and rate.

Raw side: for every migration that ``migrate --fake-initial`` would apply (the legacy
``0001_initial`` migrations are faked), the statements ``sqlmigrate`` would print
(``MigrationLoader.collect_sql``) are executed one by one on another copy, in a transaction
for an atomic migration. What ``sqlmigrate`` cannot write as SQL is replaced by hand:

- a batched backfill (printed as a template with ``<start>`` placeholders) by its one-statement
  equivalent ``UPDATE t SET c = <expression> WHERE c IS NULL``;
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

from bench.process import Completed, manage

UPGRADE_APP = "bench-upgrade"
RAW_APP = "bench-raw"

SEED: tuple[str, ...] = ()
DUPLICATE_SETTINGS = "id NOT IN (SELECT min(id) FROM user_settings GROUP BY user_id)"
# migration label → one tuple of raw statements per RunPython operation, in order.
RAW_PYTHON: dict[str, list[tuple[str, ...]]] = {
    "contenttypes.0002_remove_content_type_name": [SEED],
    "auth.0011_update_proxy_permissions": [SEED],
    "database.0001_inspector_group": [SEED],
    "accounts.0003_seed_platform_configs": [SEED],
    "accounts.0005_user_settings_one_row_per_user": [
        (
            "CREATE SCHEMA IF NOT EXISTS archive",
            "CREATE TABLE archive.user_settings_duplicates AS "
            f"SELECT * FROM user_settings WHERE {DUPLICATE_SETTINGS}",
            f"DELETE FROM user_settings WHERE {DUPLICATE_SETTINGS}",
        )
    ],
    "content.0004_seed_content_categories": [SEED],
    "organizations.0002_seed_roles_and_permissions": [SEED],
}

CANNOT = "-- THIS OPERATION CANNOT BE WRITTEN AS SQL"
APPLIED = re.compile(r"Applying (\S+)\.\.\.(.*?) (OK|FAKED)(?: \(([\d.]+)s\))?", re.DOTALL)
BACKFILL_PROGRESS = re.compile(
    r"(\w+)\.(\w+): \d+/\d+ ids scanned, (\d+) rows written \(([\d,]+) rows/s\)"
)
BACKFILL_TEMPLATE = re.compile(
    r"UPDATE (\S+) SET (\S+) = (.+?) WHERE id >= <start>.*?;", re.DOTALL | re.IGNORECASE
)


@dataclass
class Timed:
    """Rows written in so many seconds (a backfill, or one raw statement)."""

    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / max(self.seconds, 1e-9)


@dataclass
class ProjectUpgrade:
    run: Completed
    migrations: list[tuple[str, str, float]]  # (label, "OK"/"FAKED", seconds)
    backfills: dict[str, Timed]  # "table.column" → the last progress line


def project_upgrade(database_url: str) -> ProjectUpgrade:
    """``migrate --fake-initial`` on the copy, timed; fails loudly if migrate fails."""
    run = manage(
        "migrate", "--fake-initial", "--no-input", "-v", "2",
        database_url=database_url, app_name=UPGRADE_APP,
    ).check()  # fmt: skip
    return ProjectUpgrade(run, parse_applied(run.stdout), parse_backfills(run.stdout))


def parse_applied(output: str) -> list[tuple[str, str, float]]:
    return [
        (label, status, float(seconds or 0))
        for label, _, status, seconds in APPLIED.findall(output)
    ]


def parse_backfills(output: str) -> dict[str, Timed]:
    """The final figures of each backfill: rows written and the rate printed with them."""
    found: dict[str, Timed] = {}
    for table, column, rows, rate in BACKFILL_PROGRESS.findall(output):
        written, per_second = int(rows), float(rate.replace(",", ""))
        found[f"{table}.{column}"] = Timed(written, written / max(per_second, 1e-9))
    return found


@dataclass
class RawMigration:
    label: str
    atomic: bool
    statements: list[str] = field(default_factory=list)
    backfills: dict[int, str] = field(default_factory=dict)  # statement index → table.column
    uncovered: list[str] = field(default_factory=list)
    seeds_left_out: int = 0


@dataclass
class RawUpgrade:
    migrations: list[RawMigration]
    seconds: float  # sum of the statements' own times
    per_migration: dict[str, float]
    backfills: dict[str, Timed]

    @property
    def uncovered(self) -> list[str]:
        return [f"{m.label}: {what}" for m in self.migrations for what in m.uncovered]


def raw_upgrade(alias: str, conninfo: str) -> RawUpgrade:
    """Collect and run, migration by migration, the raw statements of the whole upgrade."""
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    plan = [m for m, _ in executor.migration_plan(targets) if not _faked(executor, m)]
    done: list[RawMigration] = []
    per_migration: dict[str, float] = {}
    backfills: dict[str, Timed] = {}
    with psycopg.connect(conninfo, autocommit=True, application_name=RAW_APP) as conn:
        for migration in plan:
            raw = translate(migration, executor.loader.collect_sql([(migration, False)]))
            connection.close()  # no idle session of ours holds a lock during the DDL
            seconds, timings = execute(conn, raw)
            per_migration[raw.label] = seconds
            for index, name in raw.backfills.items():
                backfills[name] = timings[index]
            done.append(raw)
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
        elif match := BACKFILL_TEMPLATE.search(item):
            table, column, expression = match.groups()
            raw.backfills[len(raw.statements)] = f"{table}.{column}"
            raw.statements.append(f"UPDATE {table} SET {column} = {expression} "
                                  f"WHERE {column} IS NULL")  # fmt: skip
        else:
            raw.statements.append(code.strip())
    return raw


def _substitute(raw: RawMigration, by_hand: list[tuple[str, ...]], described: str) -> None:
    if not by_hand:
        raw.uncovered.append(described or "an operation sqlmigrate cannot write")
        return
    statements = by_hand.pop(0)
    raw.seeds_left_out += statements == SEED
    raw.statements.extend(statements)


def execute(conn: psycopg.Connection, raw: RawMigration) -> tuple[float, list[Timed]]:
    """Run the statements (one transaction if the migration is atomic); their total time."""
    timings: list[Timed] = []
    if raw.atomic:
        with conn.transaction():
            timings = [_timed(conn, statement) for statement in raw.statements]
    else:
        timings = [_timed(conn, statement) for statement in raw.statements]
    return sum(t.seconds for t in timings), timings


def _timed(conn: psycopg.Connection, statement: str) -> Timed:
    started = time.perf_counter()
    cursor = conn.execute(statement)
    return Timed(max(cursor.rowcount, 0), time.perf_counter() - started)
