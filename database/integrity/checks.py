"""The checks, one function each, registered in ``CHECKS`` in the order they run.

Each function takes the check's ``Scan`` (a read-only transaction) and the ``Context`` read
once per run, and yields findings. Each reads with set-based SQL: catalog queries over the
whole schema, and at most one statement per table, column or constraint for the data; no
check loops over rows in Python.
"""

import datetime
import functools
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connections
from django.db.models import Count
from django.utils import timezone

from database.integrity import declarations, platform, schema
from database.integrity.findings import SAMPLE_SIZE, Finding, Severity
from database.integrity.scan import (
    SCHEMA,
    TYPE_MAX,
    Scan,
    attnames,
    count_and_sample,
    foreign_keys,
    orphans,
)
from database.management.commands import clear_expired_tokens
from database.online import archive
from database.schema import platform_contract
from database.schema.catalog import Catalog, diff_catalogs, read_catalog
from database.secrets import crypto, formats, keyring


@dataclass
class Context:
    """What every check may need, read once per run."""

    state: schema.MigrationState
    live: platform.LiveSchema  # {table: {column: LiveColumn}} of the live schema
    # The catalog the schema should have and the live tables to compare (None: unknown).
    expected: tuple[Catalog, set[str]] | None
    foreign: set[str] = field(default_factory=set)  # tables of apps the project does not own

    @functools.cached_property
    def columns(self) -> dict[str, dict[str, str]]:
        """``{table: {column: type}}`` of the live schema."""
        return {
            table: {name: column.type for name, column in columns.items()}
            for table, columns in self.live.items()
        }

    def has(self, table: str, *columns: str) -> bool:
        return table in self.columns and all(c in self.columns[table] for c in columns)


# -- schema -------------------------------------------------------------------------------


def unapplied_migrations(scan: Scan, context: Context) -> Iterator[Finding]:
    """Migrations on disk that the database has not recorded, and the reverse."""
    state = context.state
    by_app: dict[str, list[str]] = {}
    for app, name in state.unapplied:
        by_app.setdefault(app, []).append(name)
    nothing = "" if state.recorded else " No migration is recorded at all (not adopted yet)."
    for app, names in by_app.items():
        yield Finding(
            "unapplied_migrations",
            Severity.WARNING,
            f"{len(names)} migration(s) of '{app}' not applied, from {names[0]}.{nothing}",
            object=app,
            count=len(names),
            sample=tuple(names),
        )
    for app, name in state.unknown:
        yield Finding(
            "unapplied_migrations",
            Severity.WARNING,
            f"{app}.{name} is recorded as applied but is not in the project.",
            object=app,
            count=1,
            sample=(name,),
        )


_DRIFT_COLUMN_KINDS = {"missing column", "extra column"}


def drift(scan: Scan, context: Context) -> Iterator[Finding]:
    """Differences between the live schema and the one the migrations build."""
    if context.expected is None:
        yield Finding(
            "drift",
            Severity.INFO,
            f"Schema not compared with the migrations: {len(context.state.unapplied)} "
            "of them are not applied, so nothing says what it should be. Apply them (see "
            "unapplied_migrations) and check again.",
            object="schema",
        )
        return
    catalog, tables = context.expected
    with scan.connection.cursor() as cursor:
        found = read_catalog(cursor, tables, SCHEMA)
    for difference in diff_catalogs(catalog, found):
        is_column = difference.kind in _DRIFT_COLUMN_KINDS or difference.kind.startswith("column ")
        yield Finding(
            "drift",
            Severity.INFO if difference.kind == "column order" else Severity.ERROR,
            f"{difference.kind}: {difference.explained()}.",
            table=None if difference.table == "(types)" else difference.table,
            column=difference.name if is_column and difference.name else None,
            object=None if is_column else (difference.name or None),
        )


def unvalidated_constraints(scan: Scan, context: Context) -> Iterator[Finding]:
    """Constraints added NOT VALID and never validated: old rows were never checked."""
    for table, name, kind, definition, expression in scan.rows(
        """
        SELECT t.relname, con.conname, con.contype, pg_catalog.pg_get_constraintdef(con.oid),
               pg_catalog.pg_get_expr(con.conbin, con.conrelid)
        FROM pg_catalog.pg_constraint con
        JOIN pg_catalog.pg_class t ON t.oid = con.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %s AND NOT con.convalidated
        ORDER BY t.relname, con.conname
        """,
        [SCHEMA],
    ):
        where = {"table": table, "object": name}
        if kind == "f":
            behind = "its orphans, if any, are listed by fk_orphans"
            count = None
        else:
            relation = f"{scan.ident(SCHEMA, table)} c"
            found = count_and_sample(
                scan,
                f"rows violating {name}",
                relation,
                "NULL::text",
                f"NOT ({expression})",
                where,
            )
            count = None if found is None else found[0]
            behind = "it could not be counted" if count is None else f"{count} row(s) violate it"
        yield Finding(
            "unvalidated_constraints",
            Severity.WARNING,
            f"Constraint {name} is NOT VALID ({definition}): existing rows were never "
            f"checked; {behind}.",
            count=count,
            **where,
        )


_INDEXES = """
SELECT t.relname AS table_name, i.relname AS index_name,
       pg_catalog.pg_get_indexdef(x.indexrelid) AS definition, {columns} AS columns,
       x.indexrelid, x.indrelid, x.indisunique, x.indisprimary,
       con.oid IS NOT NULL AS backs_constraint, am.amname,
       x.indnatts = x.indnkeyatts AS no_include,
       (x.indkey::pg_catalog.int2[])[0:x.indnkeyatts - 1] AS keys,
       (x.indclass::pg_catalog.oid[])[0:x.indnkeyatts - 1] AS opclasses,
       (x.indcollation::pg_catalog.oid[])[0:x.indnkeyatts - 1] AS collations,
       (x.indoption::pg_catalog.int2[])[0:x.indnkeyatts - 1] AS options,
       x.indexprs IS NOT NULL AS has_expressions,
       pg_catalog.pg_get_expr(x.indpred, x.indrelid) AS predicate,
       x.indisvalid
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
JOIN pg_catalog.pg_am am ON am.oid = i.relam
LEFT JOIN pg_catalog.pg_constraint con
       ON con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x')
WHERE n.nspname = %(schema)s AND NOT (t.relname = ANY(%(skip)s))
""".format(columns=attnames("x.indrelid", "x.indkey"))


def invalid_indexes(scan: Scan, context: Context) -> Iterator[Finding]:
    """Indexes left INVALID by a failed concurrent build: written to, never used."""
    query = f"SELECT * FROM ({_INDEXES}) idx WHERE NOT indisvalid ORDER BY 1, 2"
    for table, index, definition, columns, *_ in scan.rows(query, {"schema": SCHEMA, "skip": []}):
        yield Finding(
            "invalid_indexes",
            Severity.ERROR,
            f"Index {index} is INVALID (a failed or unfinished CREATE INDEX CONCURRENTLY): "
            f"every write maintains it, no query uses it. {definition}",
            table=table,
            column=", ".join(columns),
            object=index,
        )


_REDUNDANT = f"""
WITH idx AS ({_INDEXES} AND x.indisvalid)
SELECT DISTINCT ON (a.indexrelid)
       a.table_name, a.index_name, a.columns, b.index_name, b.columns, b.indisprimary,
       b.backs_constraint, cardinality(a.keys) = cardinality(b.keys) AS same_columns
FROM idx a
JOIN idx b ON b.indrelid = a.indrelid AND b.indexrelid <> a.indexrelid
WHERE a.amname = 'btree' AND b.amname = 'btree'
  AND NOT a.indisprimary AND a.no_include
  AND NOT a.has_expressions AND NOT b.has_expressions
  AND a.predicate IS NOT DISTINCT FROM b.predicate
  AND cardinality(a.keys) <= cardinality(b.keys)
  AND a.keys = b.keys[1:cardinality(a.keys)]
  AND a.opclasses = b.opclasses[1:cardinality(a.keys)]
  AND a.collations = b.collations[1:cardinality(a.keys)]
  AND a.options = b.options[1:cardinality(a.keys)]
  AND CASE
        -- A plain index is redundant next to a longer one, a unique one, or its twin.
        WHEN NOT a.indisunique THEN
          cardinality(a.keys) < cardinality(b.keys) OR b.indisunique
          OR a.indexrelid > b.indexrelid
        -- A unique index only duplicates another unique index on the same columns.
        ELSE b.indisunique AND cardinality(a.keys) = cardinality(b.keys)
          AND (b.indisprimary OR (b.backs_constraint AND NOT a.backs_constraint)
               OR (a.backs_constraint = b.backs_constraint AND a.indexrelid > b.indexrelid))
      END
ORDER BY a.indexrelid, b.indisprimary DESC, b.indisunique DESC, cardinality(b.keys)
"""


def redundant_indexes(scan: Scan, context: Context) -> Iterator[Finding]:
    """Btree indexes another index already provides: the same columns, or a prefix."""
    rows = scan.rows(_REDUNDANT, {"schema": SCHEMA, "skip": sorted(context.foreign)})
    for table, index, columns, other, other_columns, primary, constraint, same in sorted(rows):
        if same:
            what = "primary key" if primary else ("constraint" if constraint else "index")
            reason = f"duplicates the {what} {other} ({', '.join(other_columns)})"
        else:
            reason = f"is a prefix of {other} ({', '.join(other_columns)})"
        yield Finding(
            "redundant_indexes",
            Severity.WARNING,
            f"Index {index} ({', '.join(columns)}) {reason}: it costs every write and "
            "serves no query the other cannot.",
            table=table,
            column=", ".join(columns),
            object=index,
        )


_UNINDEXED = f"""
SELECT t.relname, con.conname, {attnames("con.conrelid", "con.conkey")}, r.relname
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class t ON t.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
JOIN pg_catalog.pg_class r ON r.oid = con.confrelid
WHERE con.contype = 'f' AND n.nspname = %(schema)s AND NOT (t.relname = ANY(%(skip)s))
  AND NOT EXISTS (
    SELECT FROM pg_catalog.pg_index x
    JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
    JOIN pg_catalog.pg_am am ON am.oid = i.relam
    WHERE x.indrelid = con.conrelid AND x.indisvalid AND x.indpred IS NULL
      AND am.amname = 'btree' AND x.indnkeyatts >= cardinality(con.conkey)
      -- The key's columns lead the index, in any order among themselves.
      AND (SELECT array_agg(k ORDER BY k)
           FROM unnest((x.indkey::pg_catalog.int2[])[0:cardinality(con.conkey) - 1]) k)
        = (SELECT array_agg(k ORDER BY k) FROM unnest(con.conkey) k)
  )
ORDER BY t.relname, con.conname
"""


def unindexed_foreign_keys(scan: Scan, context: Context) -> Iterator[Finding]:
    """Foreign keys no index leads with: every parent delete scans the child table."""
    rows = scan.rows(_UNINDEXED, {"schema": SCHEMA, "skip": sorted(context.foreign)})
    for table, name, columns, target in rows:
        yield Finding(
            "unindexed_foreign_keys",
            Severity.WARNING,
            f"Foreign key {name} ({', '.join(columns)}) -> {target} has no index leading with "
            f"its column(s): deleting a {target} row or joining scans all of {table}.",
            table=table,
            column=", ".join(columns),
            object=name,
        )


# -- foreign keys ---------------------------------------------------------------------------


def fk_orphans(scan: Scan, context: Context) -> Iterator[Finding]:
    """Rows behind every foreign-key constraint, valid or not, that match no parent row.

    A validated constraint cannot have orphans unless rows were written with its triggers
    bypassed (``session_replication_role = replica``, a restore); the data is checked anyway.
    """
    for key in foreign_keys(scan):
        where = {"table": key.table, "column": ", ".join(key.columns), "object": key.name}
        found = orphans(
            scan,
            key.table,
            key.columns,
            (key.target_schema, key.target_table),
            key.target_columns,
            where=where,
        )
        if not found or not found[0]:
            continue
        count, sample = found
        how = (
            "they were written with its triggers bypassed"
            if key.validated
            else "the constraint is NOT VALID, so they were never checked"
        )
        yield Finding(
            "fk_orphans",
            Severity.ERROR,
            f"{count} row(s) of {key.table} reference no {key.target_table} row through "
            f"{key.name}: {how}.",
            count=count,
            sample=tuple(sample),
            **where,
        )


def reference_orphans(scan: Scan, context: Context) -> Iterator[Finding]:
    """Values of references the models declare but no constraint guards, matching nothing.

    Covers ``ForeignKey(db_constraint=False)``, foreign keys whose constraint is missing
    from the database, and ``implied_references``.
    """
    constrained = {
        (key.table, key.columns, key.target_table, key.target_columns)
        for key in foreign_keys(scan)
    }
    for ref in declarations.model_references():
        key = (ref.table, ref.columns, ref.target_table, ref.target_columns)
        if key in constrained or not context.has(ref.table, *ref.columns):
            continue
        target_exists = context.has(ref.target_table, *ref.target_columns)
        types_differ = target_exists and any(
            context.columns[ref.table][mine] != context.columns[ref.target_table][theirs]
            for mine, theirs in zip(ref.columns, ref.target_columns, strict=True)
        )
        where = {"table": ref.table, "column": ", ".join(ref.columns)}
        found = orphans(
            scan,
            ref.table,
            ref.columns,
            (SCHEMA, ref.target_table) if target_exists else None,
            ref.target_columns,
            as_text=types_differ,
            where=where,
        )
        if not found or not found[0]:
            continue
        count, sample = found
        if not target_exists:
            why = f"{ref.target} does not exist, so every value is an orphan"
        elif types_differ:
            why = f"no {ref.target} matches (compared as text: the types differ)"
        else:
            why = f"no {ref.target} matches"
        yield Finding(
            "reference_orphans",
            Severity.ERROR,
            f"{count} row(s) of {ref.table} point at nothing through {ref.where} "
            f"({ref.declared_by}, no constraint): {why}.",
            count=count,
            sample=tuple(sample),
            **where,
        )


# -- integrity ------------------------------------------------------------------------------


_SEQUENCES = """
WITH links AS (
    -- serial and identity columns own their sequence ...
    SELECT d.objid AS seq, d.refobjid AS rel, d.refobjsubid AS attnum
    FROM pg_catalog.pg_depend d
    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    UNION
    -- ... and a column default may use one it does not own.
    SELECT d.refobjid, ad.adrelid, ad.adnum
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
    WHERE d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
)
SELECT t.relname, a.attname, pg_catalog.format_type(a.atttypid, NULL), sn.nspname, s.relname,
       q.seqincrement, q.seqmax
FROM links l
JOIN pg_catalog.pg_sequence q ON q.seqrelid = l.seq
JOIN pg_catalog.pg_class s ON s.oid = l.seq
JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_catalog.pg_class t ON t.oid = l.rel
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = l.rel AND a.attnum = l.attnum
WHERE n.nspname = %s
ORDER BY 1, 2, 5
"""


@dataclass(frozen=True)
class SequenceState:
    table: str
    column: str
    column_type: str
    sequence: str
    increment: int
    maximum: int  # the sequence's own maximum
    next_value: int | None  # what nextval() would return; None when unreadable
    max_in_column: int | None


def sequence_states(scan: Scan) -> Iterator[SequenceState]:
    """Each column's sequence with its next value and the column's max, one query each."""
    for table, column, type_, seq_schema, sequence, increment, maximum in scan.rows(
        _SEQUENCES, [SCHEMA]
    ):
        query = (
            f"SELECT (SELECT pg_catalog.max(c.{scan.ident(column)}) "
            f"FROM {scan.ident(SCHEMA, table)} c), s.last_value, s.is_called "
            f"FROM {scan.ident(seq_schema, sequence)} s"
        )
        found = scan.guarded(
            f"{sequence} against max({table}.{column})",
            lambda query=query: scan.rows(query)[0],
            {"table": table, "column": column, "object": sequence},
        )
        if found is None:
            continue
        highest, last, called = found
        yield SequenceState(
            table,
            column,
            type_,
            sequence,
            increment,
            maximum,
            last + increment if called else last,
            highest,
        )


def sequences_behind(scan: Scan, context: Context) -> Iterator[Finding]:
    """Sequences whose next value is already used: the next default insert fails."""
    for state in sequence_states(scan):
        if state.max_in_column is None or state.increment < 0:
            continue
        if state.next_value <= state.max_in_column:
            yield Finding(
                "sequences_behind",
                Severity.ERROR,
                f"{state.sequence} hands out {state.next_value} next, but "
                f"max({state.table}.{state.column}) is {state.max_in_column}: the next insert "
                "that uses the default fails with a duplicate key.",
                table=state.table,
                column=state.column,
                object=state.sequence,
                count=state.max_in_column - state.next_value + 1,
                sample=(str(state.next_value), str(state.max_in_column)),
            )


CAPACITY_THRESHOLD = 0.8

_INTEGER_KEYS = """
SELECT t.relname, a.attname, pg_catalog.format_type(a.atttypid, NULL)
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class t ON t.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = con.conkey[1]
WHERE con.contype = 'p' AND cardinality(con.conkey) = 1 AND n.nspname = %s
  AND a.atttypid IN ('int2'::pg_catalog.regtype, 'int4'::pg_catalog.regtype,
                     'int8'::pg_catalog.regtype)
ORDER BY 1
"""


def key_capacity(scan: Scan, context: Context) -> Iterator[Finding]:
    """Sequences and integer keys past 80% of what their type (or sequence) can hold."""
    covered = set()
    for state in sequence_states(scan):
        covered.add((state.table, state.column))
        limit = min(state.maximum, TYPE_MAX.get(state.column_type, state.maximum))
        used = max(state.next_value - state.increment, state.max_in_column or 0)
        yield from _capacity(state.table, state.column, state.column_type, used, limit, state)
    for table, column, type_ in scan.rows(_INTEGER_KEYS, [SCHEMA]):
        if (table, column) in covered:
            continue
        query = f"SELECT pg_catalog.max({scan.ident(column)}) FROM {scan.ident(SCHEMA, table)}"
        found = scan.guarded(
            f"max({table}.{column})",
            lambda query=query: scan.rows(query)[0][0],
            {"table": table, "column": column},
        )
        if found is not None:
            yield from _capacity(table, column, type_, found, TYPE_MAX[type_], None)


def _capacity(table, column, type_, used, limit, state) -> Iterator[Finding]:
    if used < CAPACITY_THRESHOLD * limit:
        return
    via = f" (sequence {state.sequence})" if state else ""
    yield Finding(
        "key_capacity",
        Severity.WARNING,
        f"{table}.{column}{via} has used {used / limit:.0%} of its range ({used:,} of "
        f"{limit:,}, {type_}): move it to bigint before it runs out.",
        table=table,
        column=column,
        object=state.sequence if state else None,
        count=used,
    )


def required_values(scan: Scan, context: Context) -> Iterator[Finding]:
    """NULLs in columns the models declare required (``required_values``)."""
    for entry in declarations.declarations("required_values"):
        if not context.has(entry.table, entry.column):
            continue
        rows = entry.model._base_manager.using(scan.alias).filter(
            entry.rule, **{f"{entry.field.name}__isnull": True}
        )
        condition = declarations.describe_condition(entry.rule)
        yield from _rows_finding(
            scan,
            "required_values",
            Severity.WARNING,
            rows,
            entry,
            f"have no {entry.column}"
            + (f" although {condition}" if condition else "")
            + ": the domain requires a value",
        )


def conflicting_values(scan: Scan, context: Context) -> Iterator[Finding]:
    """Rows whose values disagree with each other (``conflicting_values``)."""
    for entry in declarations.declarations("conflicting_values"):
        if not context.has(entry.table, entry.column):
            continue
        rows = (
            entry.model._base_manager.using(scan.alias).filter(entry.rule).values("pk").distinct()
        )
        yield from _rows_finding(
            scan,
            "conflicting_values",
            Severity.INFO,
            rows,
            entry,
            f"disagree on {entry.column}: {declarations.describe_condition(entry.rule)}",
        )


def _rows_finding(scan, check, severity, rows, entry, predicate) -> Iterator[Finding]:
    where = {"table": entry.table, "column": entry.column}
    found = scan.guarded(f"{entry.table}.{entry.column}", lambda: _count_and_keys(rows), where)
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


def _count_and_keys(rows) -> tuple[int, list[str]]:
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


_UNIQUE_INDEXES = f"""
SELECT t.relname, {attnames("x.indrelid", "x.indkey")}
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %s AND x.indisunique AND x.indisvalid AND x.indexprs IS NULL
"""


def unique_values(scan: Scan, context: Context) -> Iterator[Finding]:
    """Duplicates among values the models expect unique but the database does not enforce.

    ``unique_values`` declarations always; a model's unique constraint only while the live
    database has no valid unique index on those columns (not yet migrated, dropped, or left
    INVALID by a failed build).
    """
    enforced = {
        (table, frozenset(columns)) for table, columns in scan.rows(_UNIQUE_INDEXES, [SCHEMA])
    }
    for expectation in declarations.unique_expectations():
        table, columns = expectation.table, expectation.columns
        if not context.has(table, *columns):
            continue
        if not expectation.declared and (table, frozenset(columns)) in enforced:
            continue
        keys = {f"_key{number}": key for number, key in enumerate(expectation.keys)}
        groups = (
            expectation.model._base_manager.using(scan.alias)
            .filter(expectation.condition)
            .annotate(**keys)
            .filter(**{f"{name}__isnull": False for name in keys})
            .values(*keys)
            .annotate(_rows=Count("pk"))
            .filter(_rows__gt=1)
        )
        where = {"table": table, "column": ", ".join(columns)}
        found = scan.guarded(
            f"duplicates in {table}.{', '.join(columns)}",
            lambda groups=groups, names=list(keys): _duplicates(groups, names),
            where,
        )
        if not found or not found[0]:
            continue
        group_count, row_count, sample = found
        yield Finding(
            "unique_values",
            Severity.WARNING,
            f"{row_count} rows of {table} share their {expectation.compared} with another "
            f"row ({group_count} group(s)), although the domain expects it unique.",
            count=row_count,
            sample=tuple(sample),
            **where,
        )


def _duplicates(groups, keys: list[str]) -> tuple[int, int, list[str]]:
    """Duplicate groups, rows in them, and the ids of the first groups, in one statement."""
    groups = groups.annotate(_ids=ArrayAgg("pk", order_by="pk")).order_by()
    columns = groups.values_list("_rows", "_ids", *keys)
    query, params = columns.query.get_compiler(using=groups.db).as_sql()
    with connections[groups.db].cursor() as cursor:
        cursor.execute(
            f"WITH duplicate AS MATERIALIZED ({query}) "
            "SELECT (SELECT pg_catalog.count(*) FROM duplicate), "
            "(SELECT coalesce(pg_catalog.sum(_rows), 0)::bigint FROM duplicate), "
            "ARRAY(SELECT pg_catalog.array_to_string(_ids, ', ') FROM duplicate "
            f"ORDER BY _ids LIMIT {SAMPLE_SIZE})",
            params,
        )
        group_count, row_count, samples = cursor.fetchone()
    return group_count, row_count, [f"ids {ids}" for ids in samples]


def expired_tokens(scan: Scan, context: Context) -> Iterator[Finding]:
    """Emailed tokens kept past the platform's lifetime for them (TARGET_SCHEMA.md D13).

    The same condition ``clear_expired_tokens`` clears, so the two always agree.
    """
    users = apps.get_model("accounts", "User")
    now = timezone.now()
    for token, sent, setting in clear_expired_tokens.TOKENS:
        table, column = users._meta.db_table, users._meta.get_field(token).column
        if not context.has(table, column, users._meta.get_field(sent).column):
            continue
        hours = getattr(settings, setting)
        cutoff = now - datetime.timedelta(hours=hours)
        rows = users._base_manager.using(scan.alias).filter(
            clear_expired_tokens.expired(token, sent, cutoff)
        )
        where = {"table": table, "column": column}
        found = scan.guarded(
            f"expired {table}.{column}", lambda rows=rows: _count_and_keys(rows), where
        )
        if found and found[0]:
            count, keys = found
            yield Finding(
                "expired_tokens",
                Severity.WARNING,
                f"{count} row(s) of {table} still hold a {column} sent more than {hours} h "
                f"ago ({setting}) or never: the platform no longer honours it, it is only a "
                "risk.",
                count=count,
                sample=tuple(keys),
                **where,
            )


# What each secret value is, classified in one statement per column by shape
# (``formats.sql_format``: PostgreSQL 15 cannot try-decode base64); a sample of each
# platform format found is then confirmed structurally in Python (``formats.classify``).
# A json/jsonb value is a secret only when it holds tokens (e.g. connected_accounts' plain
# {platform: {access_token, …}}); '{}' and other token-free values count as empty.
_JSON_TOKENS = (
    "(pg_catalog.jsonb_path_exists(c.{column}::jsonb, '$.**.access_token') "
    "OR pg_catalog.jsonb_path_exists(c.{column}::jsonb, '$.**.refresh_token'))"
)

_SECRETS = """
WITH secret AS MATERIALIZED (
    SELECT c.{pk}::text AS key, {state} AS state FROM {table} c WHERE c.{column} IS NOT NULL
)
SELECT state, pg_catalog.count(*), (ARRAY_AGG(key ORDER BY key))[1:{sample}]
FROM secret WHERE state <> '{empty}' GROUP BY state ORDER BY state
"""


def _secret_columns(context: Context) -> Iterator[tuple[formats.SecretColumn, str]]:
    """The platform's secret columns (``formats.COLUMNS``) and every other field the
    models declare secret, with the primary key column of each table."""
    pks = {model._meta.db_table: model._meta.pk.column for model in declarations.concrete_models()}
    seen = set()
    for secret in formats.COLUMNS:
        seen.add((secret.table, secret.column))
        yield secret, pks.get(secret.table, "id")
    for model, model_field in declarations.encrypted_fields():
        table, column = model._meta.db_table, model_field.column
        if (table, column) in seen:
            continue
        yield (
            formats.SecretColumn(
                table,
                column,
                "this project's encrypted field",
                frozenset({formats.ENVELOPE}),
                True,
                "none: encrypt them in place (database.secrets.batches)",
            ),
            model._meta.pk.column,
        )


def _archived_secret_columns(scan: Scan) -> Iterator[tuple[formats.SecretColumn, str]]:
    """The sealed archive columns this database holds
    (``database.online.archive.sealed_columns``)."""
    present = {
        tuple(row)
        for row in scan.rows(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s",
            [archive.SCHEMA],
        )
    }
    for table, column in archive.sealed_columns():
        if (table, column) not in present:
            continue
        pk = "id" if (table, "id") in present else "_manifest_id"
        yield (
            formats.SecretColumn(
                f"{archive.SCHEMA}.{table}",
                column,
                "this project's archive restore (database.online.archive)",
                frozenset({formats.ENVELOPE}),
                True,
                "none: archived secrets are sealed when archived, and rotate_keys re-seals them",
            ),
            pk,
        )


def secrets(scan: Scan, context: Context) -> Iterator[Finding]:
    """Secret columns: every value in a format its platform reader reads, plaintext named.

    Each value is classified (``database.secrets.formats``): the D12 envelope, a token-manager
    or user-credentials blob, a bare Fernet token, hashed backup codes, or plaintext.
    Plaintext is reported column by column with the platform change it needs; a format the
    column's reader cannot read is an error. The keyring (``database.secrets.keyring``) must
    record the configured keys; envelopes, including the sealed archive columns, must be
    under a configured key id, and per column and key id a bounded sample spread over the
    values in sealing order is decrypted (SQL cannot decrypt; ``_confirm_envelopes`` says
    what that proves). No value is ever printed: samples are primary keys (key ids for
    unknown keys).
    """
    try:
        kids = crypto.keyring().kids
    except crypto.EncryptionError as error:
        yield Finding("secrets", Severity.ERROR, f"The encryption keys are misconfigured: {error}")
        kids = []
    if kids:
        yield from _keyring_findings(scan, context)
    public = (
        (
            secret,
            pk,
            scan.ident(SCHEMA, secret.table),
            context.columns[secret.table][secret.column],
        )
        for secret, pk in _secret_columns(context)
        if context.has(secret.table, secret.column, pk)
    )
    archived = (
        (secret, pk, scan.ident(*secret.table.split(".", 1)), "text")
        for secret, pk in _archived_secret_columns(scan)
    )
    for secret, pk, relation, type_ in itertools.chain(public, archived):
        table, column = secret.table, secret.column
        is_json = type_ in {"json", "jsonb"}
        state = formats.sql_format(f"c.{scan.ident(column)}", is_json=is_json)
        if is_json:
            tokens = _JSON_TOKENS.replace("{column}", scan.ident(column))
            state = (
                f"CASE WHEN ({state}) = '{formats.PLAINTEXT}' AND NOT {tokens} "
                f"THEN '{formats.EMPTY}' ELSE ({state}) END"
            )
        query = _SECRETS.format(
            pk=scan.ident(pk),
            state=state,
            table=relation,
            column=scan.ident(column),
            sample=SAMPLE_SIZE,
            empty=formats.EMPTY,
        )
        where = {"table": table, "column": column}
        found = scan.guarded(
            f"secrets in {table}.{column}", lambda query=query: scan.rows(query), where
        )
        located = (relation, pk, state)
        for shape, count, sample in found or []:
            yield from _secret_findings(
                scan, secret, located, shape, count, tuple(sample), kids, where
            )


def _keyring_findings(scan: Scan, context: Context) -> Iterator[Finding]:
    """Each configured key the keyring records must open its check value."""
    if not context.has(keyring.TABLE, "kid", "check_value"):
        return
    configured = set(crypto.keyring().kids)
    relation = scan.ident(SCHEMA, keyring.TABLE)
    rows = scan.rows(
        f"SELECT kid, check_value, recorded_at::date::text FROM {relation} ORDER BY kid"
    )
    for kid, check_value, recorded_at in rows:
        if kid in configured and not keyring.opens(check_value):
            yield Finding(
                "secrets",
                Severity.ERROR,
                f"The key configured for key id '{kid}' is not the key the keyring "
                f"({keyring.TABLE}) recorded for it on {recorded_at}: values sealed under "
                f"'{kid}' by the recorded key do not open with the configured one, and this "
                "project refuses to write with it.",
                table=keyring.TABLE,
                object=kid,
                sample=(kid,),
            )


def _secret_findings(scan, secret, located, shape, count, sample, kids, where):
    name, reads = secret.name, secret.reads
    fmt = formats.name_sql_format(shape, reads)
    if fmt == formats.PLAINTEXT:
        readable = (
            f"its reader ({secret.reader}) reads them as they are"
            if formats.PLAINTEXT in reads
            else f"its reader ({secret.reader}) cannot read plaintext"
        )
        yield Finding(
            "secrets",
            Severity.WARNING,
            f"{count} value(s) of {name} are plaintext secrets; {readable}. Platform change "
            f"needed: {secret.plaintext_change}.",
            count=count,
            sample=sample,
            **where,
        )
        return
    if fmt not in reads:
        yield Finding(
            "secrets",
            Severity.ERROR,
            f"{count} value(s) of {name} are in the {fmt} format, which its reader "
            f"({secret.reader}) does not read (it reads: {', '.join(sorted(reads))}).",
            count=count,
            sample=sample,
            **where,
        )
        return
    if fmt == formats.ENVELOPE:
        kid = shape.removeprefix("envelope:")
        if kid not in kids:
            yield Finding(
                "secrets",
                Severity.ERROR,
                f"{count} value(s) of {name} are encrypted under key ids no key is configured "
                f"for (configured: {', '.join(kids) or 'none'}); the sample lists those key ids.",
                count=count,
                sample=(kid,),
                **where,
            )
            return
        yield from _confirm_envelopes(scan, secret, located, shape, where)
        return
    yield from _confirm_sample(scan, secret, located, shape, fmt, where)


def _unquoted(stored: str):
    """A json/jsonb value as its text form shows it: a JSON string is its content."""
    if stored.startswith('"'):
        try:
            return json.loads(stored)
        except ValueError:
            pass
    return stored


def _confirm_sample(scan, secret, located, shape, fmt, where) -> Iterator[Finding]:
    """Up to five values of a platform format, confirmed to decode structurally as it."""
    relation, pk, state = located
    query = (
        f"SELECT c.{scan.ident(pk)}::text, c.{scan.ident(secret.column)}::text "
        f"FROM {relation} c WHERE ({state}) = %s "
        f"ORDER BY c.{scan.ident(pk)} LIMIT {SAMPLE_SIZE}"
    )
    rows = scan.guarded(
        f"confirming {secret.name} ({shape})", lambda: scan.rows(query, [shape]), where
    )
    failed = [
        key
        for key, stored in rows or []
        if formats.classify(_unquoted(stored), expected=secret.reads) != fmt
    ]
    if failed:
        yield Finding(
            "secrets",
            Severity.ERROR,
            f"{len(failed)} of {len(rows)} sampled value(s) of {secret.name} look like a {fmt} "
            f"but do not decode as one (truncated or altered); its reader ({secret.reader}) "
            "cannot read them.",
            count=len(failed),
            sample=tuple(failed),
            **where,
        )


# Envelopes of one key id in sealing order: by the Fernet token's timestamp (in the clear in
# its first 9 bytes, read from the ciphertext's first 16 base64 characters), then key. Every
# step-th value, the first and the last are returned, step = ceil(n / ENVELOPE_TRIALS).
ENVELOPE_TRIALS = 64
_SPREAD = r"""
WITH sealed AS MATERIALIZED (
    SELECT c.{pk} AS pk, c.{column}::text AS stored,
           pg_catalog.substring(c.{column}::text,
                                '"ciphertext"\s*:\s*"([A-Za-z0-9+/=_-]+)"') AS ct
    FROM {relation} c WHERE ({state}) = %s
), prefixed AS (
    SELECT pk, stored,
           CASE WHEN ct LIKE 'gAAAAA%%' THEN pg_catalog.substr(ct, 1, 12)
                WHEN ct ~ '^[A-Za-z0-9+/]{{16}}'
                THEN pg_catalog.substr(pg_catalog.encode(pg_catalog.decode(
                         pg_catalog.substr(ct, 1, 16), 'base64'), 'escape'), 1, 12)
           END AS token
    FROM sealed
), ordered AS (
    SELECT pk, stored, pg_catalog.count(*) OVER () AS n,
           pg_catalog.row_number() OVER (
               ORDER BY CASE WHEN token ~ '^[A-Za-z0-9_-]{{12}}$'
                             THEN pg_catalog.decode(pg_catalog.translate(token, '-_', '+/'),
                                                    'base64') END NULLS FIRST, pk) - 1 AS i
    FROM prefixed
)
SELECT pk::text, stored, n FROM ordered
WHERE i %% pg_catalog.ceil(n::numeric / {trials})::bigint = 0 OR i = n - 1
ORDER BY i
"""


def _confirm_envelopes(scan, secret, located, shape, where) -> Iterator[Finding]:
    """Decrypt a bounded sample of one key id's envelopes, spread over them in sealing order.

    Mixed keys come from runs (a process seals with the key it was given), so they occupy
    stretches of the sealing order: any stretch of at least ``step`` consecutively sealed
    values that the configured key does not open holds a sampled value and is found, without
    decrypting every value. Fewer than ``step`` such values, or ones sealed within the same
    second as values of the right key, may go unseen.
    """
    relation, pk, state = located
    kid = shape.removeprefix("envelope:")
    query = _SPREAD.format(
        pk=scan.ident(pk),
        column=scan.ident(secret.column),
        relation=relation,
        state=state,
        trials=ENVELOPE_TRIALS,
    )
    rows = scan.guarded(
        f"confirming {secret.name} ({shape})", lambda: scan.rows(query, [shape]), where
    )
    if not rows:
        return
    total = rows[0][2]
    step = -(-total // ENVELOPE_TRIALS)
    failed = []
    for key, stored, _ in rows:
        try:
            crypto.decrypt(_unquoted(stored))
        except crypto.EncryptionError:
            failed.append(key)
    if failed:
        yield Finding(
            "secrets",
            Severity.ERROR,
            f"The key configured for key id '{kid}' does not open {len(failed)} of {len(rows)} "
            f"value(s) of {secret.name} sampled over its {total} value(s) under '{kid}' in "
            f"sealing order (every {step}th, the first and the last): values under another key "
            "share this key id (a wrong key, mixed keys, or altered ciphertext). The sample "
            f"finds any run of {step} or more consecutively sealed values that the key does "
            "not open; fewer may go unseen.",
            count=len(failed),
            sample=tuple(failed),
            **where,
        )


# -- the platform's models ---------------------------------------------------------------------


def platform_models(scan: Scan, context: Context) -> Iterator[Finding]:
    """Where the live database and the running platform's models disagree (D14).

    Off when ``PLATFORM_CONTRACT`` names no contract. What breaks the platform is an error,
    what fails on some values a warning, a deliberate difference info (with its decision);
    what the platform's driver cannot tell apart is not reported.
    """
    if not settings.PLATFORM_CONTRACT:
        return
    contract = platform_contract.load(settings.PLATFORM_CONTRACT)
    for mismatch in platform.compare(contract, context.live, platform.production_schema()):
        severity = (
            Severity.INFO
            if mismatch.decision
            else Severity.ERROR
            if mismatch.breaks
            else Severity.WARNING
        )
        yield Finding(
            "platform_models",
            severity,
            platform.finding_message(mismatch),
            table=mismatch.table,
            column=mismatch.column,
            object=mismatch.kind if mismatch.column else None,
        )


# -- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[Scan, Context], Iterable[Finding]]
    section: str  # where the schema analysis report lists its findings
    action: str  # what to do about them, for the report's action items


SCHEMA_SECTION = "Schema inconsistencies"
FK_SECTION = "Foreign-key issues"
DATA_SECTION = "Integrity findings"
PLATFORM_SECTION = "Compared with the platform's models"

CHECKS: dict[str, Check] = {
    check.name: check
    for check in [
        Check(
            "unapplied_migrations",
            unapplied_migrations,
            SCHEMA_SECTION,
            "Apply them with `python manage.py migrate` (a database not adopted yet: "
            "`migrate --fake-initial`).",
        ),
        Check(
            "drift",
            drift,
            SCHEMA_SECTION,
            "Bring the schema back to what the migrations build, or write the migration "
            "that makes the change official; regenerate the snapshot with `python manage.py "
            "schema_snapshot` only when the migrations changed.",
        ),
        Check(
            "unvalidated_constraints",
            unvalidated_constraints,
            SCHEMA_SECTION,
            "Repair the rows that violate it, then `ALTER TABLE ... VALIDATE CONSTRAINT ...` "
            "(it does not block writes).",
        ),
        Check(
            "invalid_indexes",
            invalid_indexes,
            SCHEMA_SECTION,
            "Drop it with `DROP INDEX CONCURRENTLY` and build it again once the cause of the "
            "failure (often duplicate values) is gone.",
        ),
        Check(
            "redundant_indexes",
            redundant_indexes,
            SCHEMA_SECTION,
            "Drop the redundant index in a migration (`DROP INDEX CONCURRENTLY`); the other "
            "index serves the same queries.",
        ),
        Check(
            "unindexed_foreign_keys",
            unindexed_foreign_keys,
            FK_SECTION,
            "Add an index leading with the referencing column(s) (`CREATE INDEX CONCURRENTLY`).",
        ),
        Check(
            "fk_orphans",
            fk_orphans,
            FK_SECTION,
            "Archive and repair the orphan rows, find what wrote them past the constraint, "
            "then validate it.",
        ),
        Check(
            "reference_orphans",
            reference_orphans,
            FK_SECTION,
            "Archive the orphan values and set them to NULL (or restore what they point at); "
            "then the reference can become a real foreign key.",
        ),
        Check(
            "sequences_behind",
            sequences_behind,
            DATA_SECTION,
            "Move the sequence past the highest id: `SELECT setval('<sequence>', "
            "max(<column>)) FROM <table>`.",
        ),
        Check(
            "key_capacity",
            key_capacity,
            DATA_SECTION,
            "Plan the move to bigint (an online column change) before the range runs out.",
        ),
        Check(
            "required_values",
            required_values,
            DATA_SECTION,
            "Fill in the values where the true value is known; otherwise record the decision "
            "(TARGET_SCHEMA.md D7 keeps users.created_at NULL).",
        ),
        Check(
            "unique_values",
            unique_values,
            DATA_SECTION,
            "Merge or archive the duplicates; only then add the unique constraint.",
        ),
        Check(
            "expired_tokens",
            expired_tokens,
            DATA_SECTION,
            "Clear them with `python manage.py clear_expired_tokens`.",
        ),
        Check(
            "secrets",
            secrets,
            DATA_SECTION,
            "Plaintext secrets need the platform change each finding names (the upgrade "
            "encrypts only the social tokens, into the envelope); configure the missing key ids "
            "(TOKEN_ENCRYPTION_KEYS) or re-encrypt with `rotate_keys`; a key that does not open "
            "its values is the wrong key; a value its reader cannot read must be rewritten by "
            "the platform.",
        ),
        Check(
            "conflicting_values",
            conflicting_values,
            DATA_SECTION,
            "Decide which of the values is right and correct the other.",
        ),
        Check(
            "platform_models",
            platform_models,
            PLATFORM_SECTION,
            "Each finding names its fix: apply the migrations the database lacks, or change "
            "the column or the platform's model (README: What the platform must change).",
        ),
    ]
}
