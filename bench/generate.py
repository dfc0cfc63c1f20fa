"""Grow a production-shaped database to a chosen scale, with set-based SQL only.

The database starts as the contract (``production_schema.sql`` + ``sample_data.sql``); this
adds ``--users`` users and rows in every legacy table in proportion (``--users 100000``:
about 2M content_logs, 500k social_interactions), owners drawn with a power law so that a
few users are very active, values shaped like the sample's, and the sample's kinds of
defects at small rates (``DEFECTS``). Every table is filled by ``INSERT … SELECT`` over
``generate_series`` (big tables in chunks, for progress), sequences are set afterwards and
the database is vacuumed and analysed.

    python bench/generate.py --users 2000 --name bench_prod_2000

creates the database on the server of DATABASE_URL (without it, the embedded server).
"""

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql

from bench import raw_checks, tables
from bench.shapes import stride

CHUNK = 250_000
SAMPLE_USERS = 5
SKEW = 2.5

# Rows per generated user.
PER_USER = {
    "memories": 2,
    "content": 3,
    "content_logs": 20,
    "notifications": 4,
    "company_knowledge": 0.5,
    "knowledge_base_entries": 0.3,
    "social_interactions": 5,
    "response_templates": 0.3,
    "social_responses": 0.2,
}
# Shares for the tables filled from other tables (at most one row per user, or per pair).
SHARES = {
    "settings_share": 0.97,  # users with a user_settings row
    "inbox_share": 0.2,  # users with inbox_settings (UNIQUE user_id)
    "response_share": 0.4,  # interactions with a reply in interaction_responses
    "goal_share": 0.03,  # notifications about a goal
    "content_share": 0.10,  # notifications about a content row
}
# The sample data's defect kinds (its header, P1-P5), at small rates.
DEFECTS = {
    "case_duplicate_every": 1000,  # P4a: one user in 1000 repeats an email in other case
    "null_created_at": 0.02,  # P3a: users created in a window without created_at
    "duplicate_settings": 0.005,  # P4b: users with a second user_settings row
    "scheduled_without_for": 0.02,  # P3b: scheduled posts with only scheduled_time
    "orphan_content": 0.05,  # P1d: notifications.content_id pointing at no content
    "orphan_approver": 0.05,  # P1c: social_responses.approved_by pointing at no user
    "claimed_every": 10,  # P1e: an unused registration key in 10 shows current_uses = 1
    "sequence_lag": 2,  # P2: social_responses_id_seq this far behind max(id)
}
# P2 sits on social_responses rather than content_logs (as in the sample) because the
# benchmark's concurrent writer inserts into content_logs with the default id.
LAGGING_SEQUENCE = "social_responses"


@dataclass(frozen=True)
class Step:
    table: str
    statement: str
    rows: Callable[[int], int] | None = None  # rows for n users; None: the statement decides
    prepare: str | None = None


def per_user(table: str) -> Callable[[int], int]:
    return lambda n: max(1, round(n * PER_USER[table]))


def registration_keys(n: int) -> int:
    return max(2, round(n * 0.002))


STEPS = [
    Step("registration_keys", tables.REGISTRATION_KEYS, registration_keys),
    Step("users", tables.USERS, lambda n: n),
    Step("admin_users", tables.ADMIN_USERS, lambda n: max(1, n // 10_000)),
    Step("user_settings", tables.USER_SETTINGS),
    Step("memories", tables.MEMORIES, per_user("memories")),
    Step("content", tables.CONTENT, per_user("content")),
    Step("content_logs", tables.CONTENT_LOGS, per_user("content_logs")),
    Step("notifications", tables.NOTIFICATIONS, per_user("notifications")),
    Step("company_knowledge", tables.COMPANY_KNOWLEDGE, per_user("company_knowledge")),
    Step(
        "knowledge_base_entries", tables.KNOWLEDGE_BASE_ENTRIES, per_user("knowledge_base_entries")
    ),
    Step("inbox_settings", tables.INBOX_SETTINGS),
    Step("social_platform_connections", tables.SOCIAL_PLATFORM_CONNECTIONS),
    Step(
        "social_interactions",
        tables.SOCIAL_INTERACTIONS,
        per_user("social_interactions"),
        prepare=tables.CONNECTION_RANKS,
    ),
    Step("response_templates", tables.RESPONSE_TEMPLATES, per_user("response_templates")),
    Step("interaction_responses", tables.INTERACTION_RESPONSES),
    Step("social_responses", tables.SOCIAL_RESPONSES, per_user("social_responses")),
]
LEGACY_TABLES = sorted(step.table for step in STEPS)


@dataclass
class StepResult:
    table: str
    rows: int
    seconds: float


def parameters(conn: psycopg.Connection, users: int) -> dict:
    """The parameters every statement may use (see ``tables``)."""
    first = _scalar(conn, "SELECT max(id) + 1 FROM users")
    keys = registration_keys(users)
    return {
        "first": first,
        "n": users,
        "skew": SKEW,
        "stride": stride(users),
        "keys_used": keys // 2,
        **SHARES,
        **DEFECTS,
    }


def generate(
    conn: psycopg.Connection,
    users: int,
    seed: float = 0.42,
    progress: Callable[[str], None] = print,
) -> list[StepResult]:
    """Grow the contract database behind ``conn`` (autocommit) by ``users`` users."""
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SELECT setseed(%s)", [seed])
    params = parameters(conn, users)
    results = [run_step(conn, step, users, params, progress) for step in STEPS]
    set_sequences(conn)
    started = time.monotonic()
    conn.execute("VACUUM ANALYZE")
    progress(f"  VACUUM ANALYZE {time.monotonic() - started:8.1f} s")
    return results


def run_step(
    conn: psycopg.Connection, step: Step, users: int, params: dict, progress: Callable
) -> StepResult:
    started = time.monotonic()
    for statement in (step.prepare or "").split(";"):
        if statement.strip():
            conn.execute(statement, params)
    offset = (
        _scalar(
            conn, sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(step.table))
        )
        if _has_integer_id(conn, step.table)
        else 0
    )
    params = {**params, "offset": offset, **_context(conn)}
    total = step.rows(users) if step.rows else None
    written = 0
    for lo, hi in _chunks(total):
        with conn.transaction():
            cursor = conn.execute(step.statement, {**params, "lo": lo, "hi": hi, "count": total})
        written += cursor.rowcount
    seconds = time.monotonic() - started
    progress(
        f"  {step.table:<28} {written:>10,} rows {seconds:8.1f} s "
        f"({written / max(seconds, 1e-9):>9,.0f} rows/s)"
    )
    return StepResult(step.table, written, seconds)


def _context(conn: psycopg.Connection) -> dict:
    """Values that depend on tables generated earlier."""
    ranked = _scalar(conn, "SELECT to_regclass('pg_temp.bench_connection_rank') IS NOT NULL")
    connections = _scalar(conn, "SELECT count(*) FROM bench_connection_rank") if ranked else 1
    return {
        "content_max": _scalar(conn, "SELECT coalesce(max(id), 0) FROM content"),
        "connections": connections,
        "connection_stride": stride(connections),
    }


def _chunks(total: int | None) -> list[tuple[int, int]]:
    if total is None:
        return [(0, 0)]
    return [(lo, min(lo + CHUNK - 1, total)) for lo in range(1, total + 1, CHUNK)]


def _has_integer_id(conn: psycopg.Connection, table: str) -> bool:
    query = (
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s AND column_name = 'id'"
    )
    return conn.execute(query, [table]).fetchone()[0] == "integer"


def set_sequences(conn: psycopg.Connection) -> None:
    """Every serial sequence to max(id), except the planted lag (P2)."""
    for table in LEGACY_TABLES:
        if not _has_integer_id(conn, table):
            continue
        lag = DEFECTS["sequence_lag"] if table == LAGGING_SEQUENCE else 0
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({}, 'id'), "
                "greatest(coalesce(max(id), 1) - {}, 1)) FROM {}"
            ).format(sql.Literal(f"public.{table}"), sql.Literal(lag), sql.Identifier(table))
        )


def row_counts(conn: psycopg.Connection) -> dict[str, int]:
    return {
        table: _scalar(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        for table in LEGACY_TABLES
    }


def planted(conn: psycopg.Connection) -> dict[str, int]:
    """The defects present after generation (the sample's own included)."""
    return raw_checks.run_checks(conn, raw_checks.all_checks(conn))


def _scalar(conn: psycopg.Connection, query) -> int:
    return conn.execute(query).fetchone()[0]


def build(server: dict, name: str, users: int, progress: Callable[[str], None] = print) -> float:
    """Create ``name`` on ``server`` (Django settings), load the contract, grow it; seconds."""
    from django.conf import settings

    from database.schema import scratch

    legacy = settings.CONTRACT_DIR / "legacy"
    started = time.monotonic()
    scratch.drop_database(server, name)
    scratch.create_database(server, name)
    for file in ("production_schema.sql", "sample_data.sql"):
        scratch.load_sql_file(server, name, legacy / file)
    with scratch.connect(server, name, autocommit=True) as conn:
        generate(conn, users, progress=progress)
    return time.monotonic() - started


def print_summary(conn: psycopg.Connection, seconds: float) -> None:
    counts = row_counts(conn)
    print(f"\n{'table':<30} {'rows':>12}")
    for table, rows in counts.items():
        print(f"{table:<30} {rows:>12,}")
    print(f"{'total':<30} {sum(counts.values()):>12,}   built in {seconds:.1f} s")
    print("\nDefects present (raw queries):")
    for check, count in planted(conn).items():
        print(f"  {check:<66} {count:>8,}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000, help="users to add (default 2000)")
    parser.add_argument("--name", default=None, help="database to (re)create")
    args = parser.parse_args(argv)
    import django

    django.setup()
    from database.schema import scratch

    server = scratch.server_settings()
    name = args.name or f"bench_prod_{args.users}"
    if name == server["NAME"]:
        sys.exit(f"Refusing to rebuild '{name}': it is the configured database.")
    print(f"Building '{name}' with {args.users:,} more users")
    seconds = build(server, name, args.users)
    with scratch.connect(server, name) as conn:
        print_summary(conn, seconds)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    main()
