"""How a check reads the database, and the queries several checks share.

A ``Scan`` is one check's read-only transaction: every statement runs under the statement
(and lock) timeout, and the ones that read table data run in a savepoint, so a table too big
to scan in time costs one finding ("not checked"), not the whole check.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from django.db import DatabaseError, connections, transaction
from psycopg import sql

from database.integrity.findings import SAMPLE_SIZE, ArchiveRun, Finding, Severity, TableRows

T = TypeVar("T")
SCHEMA = "public"
TYPE_MAX = {"smallint": 32_767, "integer": 2_147_483_647, "bigint": 9_223_372_036_854_775_807}


@dataclass
class Scan:
    connection: Any  # a Django database connection, inside the check's transaction
    check: str
    timeout_ms: int
    progress: Callable[[str], None] = lambda label: None
    findings: list[Finding] = field(default_factory=list)

    @property
    def alias(self) -> str:
        return self.connection.alias

    def begin(self) -> None:
        """Make the current transaction read-only and bound every statement in time."""
        with self.connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
            cursor.execute(
                "SELECT pg_catalog.set_config('statement_timeout', %s, true), "
                "pg_catalog.set_config('lock_timeout', %s, true)",
                [f"{self.timeout_ms}ms", f"{self.timeout_ms}ms"],
            )

    def rows(self, query: str, params: Any = None) -> list[tuple]:
        """Run a quick catalog query and return its rows."""
        with self.connection.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall()

    def guarded(self, label: str, read: Callable[[], T], where: dict[str, Any]) -> T | None:
        """Run ``read`` (a scan of table data) in a savepoint; None if it could not finish.

        A timeout or a missing column becomes a finding that says what was not checked.
        """
        self.progress(label)
        try:
            with transaction.atomic(using=self.alias):
                return read()
        except DatabaseError as error:
            cause = error.__cause__
            if isinstance(cause, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable):
                reason = f"did not finish within {self.timeout_ms / 1000:g}s"
            elif isinstance(cause, psycopg.errors.UndefinedColumn | psycopg.errors.UndefinedTable):
                reason = f"refers to something the database lacks ({cause.diag.message_primary})"
            else:
                raise
            self.findings.append(
                Finding(
                    self.check,
                    Severity.WARNING,
                    f"Not checked: {label} {reason}.",
                    **where,
                )
            )
            return None

    def ident(self, *names: str) -> str:
        """``"schema"."name"`` quoted for this connection."""
        return sql.Identifier(*names).as_string(self.connection.connection)


def estimated_rows(scan: Scan) -> dict[str, int]:
    """Planner estimates of each table's rows (no full counts); -1 when never analysed."""
    return dict(
        scan.rows(
            """
            SELECT c.relname, c.reltuples::bigint
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
            ORDER BY c.relname
            """,
            [SCHEMA],
        )
    )


EXACT_BELOW = 10_000  # rows: tables the planner puts below this are counted exactly


def row_figures(scan: Scan, estimates: dict[str, int]) -> dict[str, TableRows]:
    """Each table's rows: ``count(*)`` where the planner estimates fewer than EXACT_BELOW rows
    or has no estimate (never analysed), under the statement timeout; the estimate otherwise,
    or when the count does not finish in time (unknown if there is none)."""
    figures = {}
    for table, estimate in estimates.items():
        counted = None
        if estimate < EXACT_BELOW:
            scan.progress(f"counting the rows of {table}")
            counted = _count(scan, table)
        if counted is not None:
            figures[table] = TableRows(counted, exact=True)
        else:
            figures[table] = TableRows(estimate if estimate >= 0 else None, exact=False)
    return figures


_NOT_READ = (
    psycopg.errors.QueryCanceled,
    psycopg.errors.LockNotAvailable,
    psycopg.errors.InsufficientPrivilege,
)


def _count(scan: Scan, table: str) -> int | None:
    try:
        with transaction.atomic(using=scan.alias):
            return scan.rows(f"SELECT count(*) FROM {scan.ident(SCHEMA, table)}")[0][0]
    except DatabaseError as error:
        if isinstance(error.__cause__, _NOT_READ):
            return None
        raise


ARCHIVE_MANIFEST = """
SELECT source, selection, archive_table, migration, row_count, checksum, archived_at,
       restored_at
FROM archive.manifest ORDER BY id
"""


def archive_manifest(scan: Scan) -> tuple[list[ArchiveRun] | None, str]:
    """The runs recorded in ``archive.manifest`` (database/online/archive.py), or None and why."""
    ((schema, manifest),) = scan.rows(
        "SELECT pg_catalog.to_regnamespace('archive') IS NOT NULL, "
        "pg_catalog.to_regclass('archive.manifest') IS NOT NULL"
    )
    if not schema:
        return None, "There is no `archive` schema: no migration has archived anything here."
    if not manifest:
        return None, "The `archive` schema exists but holds no `manifest` table."
    try:
        with transaction.atomic(using=scan.alias):
            return [ArchiveRun(*row) for row in scan.rows(ARCHIVE_MANIFEST)], ""
    except DatabaseError as error:
        if isinstance(error.__cause__, _NOT_READ):
            reason = error.__cause__.diag.message_primary
            return None, f"`archive.manifest` could not be read: {reason}."
        raise


@dataclass(frozen=True)
class ForeignKey:
    table: str
    name: str
    columns: tuple[str, ...]
    target_schema: str
    target_table: str
    target_columns: tuple[str, ...]
    validated: bool


def foreign_keys(scan: Scan) -> list[ForeignKey]:
    """Every foreign-key constraint on a table of the schema, validated or not."""
    return [
        ForeignKey(table, name, tuple(columns), schema, target, tuple(targets), validated)
        for table, name, columns, schema, target, targets, validated in scan.rows(
            f"""
            SELECT t.relname, con.conname, {attnames("con.conrelid", "con.conkey")},
                   rn.nspname, r.relname, {attnames("con.confrelid", "con.confkey")},
                   con.convalidated
            FROM pg_catalog.pg_constraint con
            JOIN pg_catalog.pg_class t ON t.oid = con.conrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
            JOIN pg_catalog.pg_class r ON r.oid = con.confrelid
            JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace
            WHERE con.contype = 'f' AND n.nspname = %s
            ORDER BY t.relname, con.conname
            """,
            [SCHEMA],
        )
    ]


def attnames(relation: str, attnums: str) -> str:
    """SQL for the column names of ``attnums`` (an array) of ``relation``, in order."""
    return (
        "ARRAY(SELECT a.attname FROM pg_catalog.unnest("
        f"{attnums}::pg_catalog.int2[]) WITH ORDINALITY k(attnum, n) "
        f"JOIN pg_catalog.pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.attnum "
        "ORDER BY k.n)"
    )


def count_and_sample(
    scan: Scan, label: str, relation: str, value: str, condition: str, where: dict[str, Any]
) -> tuple[int, list[str]] | None:
    """How many rows of ``relation`` match ``condition``, and a few of their ``value``s.

    ``relation`` is a FROM item aliased ``c``; ``value`` a text expression over it. One
    set-based statement; None when it could not finish (a finding says so).
    """
    query = f"""
        WITH matching AS MATERIALIZED (
            SELECT {value} AS value FROM {relation} WHERE {condition}
        )
        SELECT (SELECT pg_catalog.count(*) FROM matching),
               ARRAY(SELECT DISTINCT value FROM matching ORDER BY value LIMIT {SAMPLE_SIZE})
    """
    found = scan.guarded(label, lambda: scan.rows(query)[0], where)
    return None if found is None else (found[0], list(found[1]))


def orphans(
    scan: Scan,
    table: str,
    columns: Sequence[str],
    target: tuple[str, str] | None,
    target_columns: Sequence[str],
    *,
    as_text: bool = False,
    where: dict[str, Any],
) -> tuple[int, list[str]] | None:
    """Rows of ``table`` whose non-null ``columns`` match no row of ``target``.

    ``target`` is ``(schema, table)``, or None when that table does not exist: then every
    non-null value is an orphan. ``as_text`` compares both sides as text (for keys whose
    types differ). Multi-column keys follow MATCH SIMPLE: a row with a NULL is not checked.
    """
    child = [f"c.{scan.ident(column)}" for column in columns]
    present = " AND ".join(f"{column} IS NOT NULL" for column in child)
    condition = present
    if target is not None:
        cast = "::text" if as_text else ""
        joined = " AND ".join(
            f"p.{scan.ident(parent)}{cast} = {column}{cast}"
            for parent, column in zip(target_columns, child, strict=True)
        )
        condition += f" AND NOT EXISTS (SELECT FROM {scan.ident(*target)} p WHERE {joined})"
    value = f"{child[0]}::text" if len(child) == 1 else f"ROW({', '.join(child)})::text"
    relation = f"{scan.ident(SCHEMA, table)} c"
    label = f"orphans in {table}.{', '.join(columns)}"
    return count_and_sample(scan, label, relation, value, condition, where)


def rows_finding(
    scan: Scan, check: str, severity: Severity, rows, entry, predicate: str
) -> Iterator[Finding]:
    """A finding for the rows of ``entry``'s table that the queryset ``rows`` matches (none
    when it matches no row), counted and sampled in one statement."""
    where = {"table": entry.table, "column": entry.column}
    found = scan.guarded(f"{entry.table}.{entry.column}", lambda: count_and_keys(rows), where)
    if found and found[0]:
        count, keys = found
        yield Finding(
            check,
            severity,
            f"{count} row(s) of {entry.table} {predicate}.",
            count=count,
            sample=tuple(keys),
            **where,
        )


def count_and_keys(rows) -> tuple[int, list[str]]:
    """How many rows a queryset matches and the first primary keys, in one statement."""
    pks = rows.values_list("pk").order_by()
    query, params = pks.query.get_compiler(using=rows.db).as_sql()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(
            f"WITH matching(key) AS MATERIALIZED ({query}) "
            "SELECT (SELECT pg_catalog.count(*) FROM matching), "
            f"ARRAY(SELECT key::text FROM matching ORDER BY key LIMIT {SAMPLE_SIZE})",
            params,
        )
        count, keys = cursor.fetchone()
    return count, list(keys)
