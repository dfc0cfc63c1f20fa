"""Hand-written set-based queries for the integrity problems production has.

They are the raw-SQL baseline of ``check_integrity`` (the benchmark runs them alone and
compares) and the generator's report of what it planted. Each query returns one count.
References to tables that do not exist count every non-NULL value as an orphan.
"""

from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class Reference:
    """``table.column`` points at ``target.target_column`` without a constraint."""

    table: str
    column: str
    target: str
    target_column: str = "id"

    @property
    def name(self) -> str:
        return f"orphans {self.table}.{self.column} -> {self.target}.{self.target_column}"


# QUIRKS.md §9 and the models' ``implied_references``.
IMPLIED_REFERENCES = [
    Reference("social_responses", "interaction_id", "social_interactions"),
    Reference("social_responses", "template_id", "response_templates"),
    Reference("social_responses", "approved_by", "users"),
    Reference("notifications", "goal_id", "goals"),
    Reference("notifications", "content_id", "content"),
    Reference("notifications", "workflow_id", "workflow_executions"),
    Reference("users", "default_organization_id", "organizations"),
    Reference("registration_keys", "created_by", "admin_users"),
]

# name → (query, the "table.column"s it reads: it is skipped when one is gone).
OTHER_CHECKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "users.created_at IS NULL": (
        "SELECT count(*) FROM users WHERE created_at IS NULL",
        ("users.created_at",),
    ),
    "case-duplicate users.email": (
        "SELECT coalesce(sum(n), 0)::bigint FROM (SELECT count(*) AS n FROM users "
        "GROUP BY lower(email) HAVING count(*) > 1) AS d",
        ("users.email",),
    ),
    "case-duplicate users.username": (
        "SELECT coalesce(sum(n), 0)::bigint FROM (SELECT count(*) AS n FROM users "
        "GROUP BY lower(username) HAVING count(*) > 1) AS d",
        ("users.username",),
    ),
    "duplicate user_settings.user_id": (
        "SELECT coalesce(sum(n - 1), 0)::bigint FROM (SELECT count(*) AS n FROM user_settings "
        "GROUP BY user_id HAVING count(*) > 1) AS d",
        ("user_settings.user_id",),
    ),
    "scheduled content_logs without scheduled_for": (
        "SELECT count(*) FROM content_logs WHERE status = 'scheduled' AND scheduled_for IS NULL",
        ("content_logs.status", "content_logs.scheduled_for"),
    ),
    "registration_keys used but unreferenced": (
        "SELECT count(*) FROM registration_keys AS k WHERE k.current_uses > 0 "
        "AND NOT EXISTS (SELECT 1 FROM users AS u WHERE u.registration_key_id = k.id)",
        ("registration_keys.current_uses", "users.registration_key_id"),
    ),
}


def column_type(conn: psycopg.Connection, table: str, column: str) -> str | None:
    """The column's type, or None when the table or column does not exist."""
    row = conn.execute(
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped",
        [f"public.{table}", column],
    ).fetchone()
    return row[0] if row else None


def orphan_query(conn: psycopg.Connection, ref: Reference) -> sql.Composed:
    """The anti-join for ``ref`` (or a count of non-NULL values when the target is missing).

    Keys of different types (integer ids pointing at text ids) are compared as text.
    """
    child = sql.SQL("c.{}").format(sql.Identifier(ref.column))
    parent = sql.SQL("p.{}").format(sql.Identifier(ref.target_column))
    target_type = column_type(conn, ref.target, ref.target_column)
    if target_type is None:
        return sql.SQL("SELECT count(*) FROM {} AS c WHERE {} IS NOT NULL").format(
            sql.Identifier(ref.table), child
        )
    if target_type != column_type(conn, ref.table, ref.column):
        child, parent = sql.SQL("{}::text").format(child), sql.SQL("{}::text").format(parent)
    return sql.SQL(
        "SELECT count(*) FROM {table} AS c WHERE {child} IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM {target} AS p WHERE {parent} = {child})"
    ).format(
        table=sql.Identifier(ref.table),
        target=sql.Identifier(ref.target),
        child=child,
        parent=parent,
    )


def declared_references(conn: psycopg.Connection) -> list[Reference]:
    """Every single-column foreign key of the public schema, as a Reference."""
    rows = conn.execute(
        """
        SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, f.attname
        FROM pg_constraint AS c
        JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        JOIN pg_attribute AS f ON f.attrelid = c.confrelid AND f.attnum = c.confkey[1]
        WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
          AND c.connamespace = 'public'::regnamespace
        ORDER BY 1, 2
        """
    ).fetchall()
    return [Reference(table, column, target, key) for table, column, target, key in rows]


def sequences_behind(conn: psycopg.Connection) -> int:
    """How many serial columns have a sequence whose next value is already taken."""
    columns = conn.execute(
        """
        SELECT c.relname, a.attname, pg_get_serial_sequence(c.oid::regclass::text, a.attname)
        FROM pg_class AS c
        JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
          AND pg_get_serial_sequence(c.oid::regclass::text, a.attname) IS NOT NULL
        """
    ).fetchall()
    behind = 0
    for table, column, sequence in columns:
        query = sql.SQL("SELECT max({}) FROM {}").format(
            sql.Identifier(column), sql.Identifier(table)
        )
        (high,) = conn.execute(query).fetchone()
        (last, called) = conn.execute(
            sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(sequence))
        ).fetchone()
        next_value = last + 1 if called else last
        behind += high is not None and next_value <= high
    return behind


Check = Callable[[psycopg.Connection], int]


def _count(query: sql.Composable) -> Check:
    return lambda conn: conn.execute(query).fetchone()[0]


def all_checks(conn: psycopg.Connection, declared: bool = False) -> dict[str, Check]:
    """Name → check for every problem whose columns still exist; ``declared`` adds the
    anti-joins of the real foreign keys."""
    references = IMPLIED_REFERENCES + (declared_references(conn) if declared else [])
    checks = {
        ref.name: _count(orphan_query(conn, ref))
        for ref in references
        if column_type(conn, ref.table, ref.column)
    }
    checks |= {
        name: _count(sql.SQL(query))
        for name, (query, reads) in OTHER_CHECKS.items()
        if all(column_type(conn, *column.split(".")) for column in reads)
    }
    checks["sequences behind max(id)"] = sequences_behind
    return checks


def run_checks(conn: psycopg.Connection, checks: dict[str, Check]) -> dict[str, int]:
    return {name: check(conn) for name, check in checks.items()}
