"""Index design: invalid, redundant, and foreign keys no index leads with."""

from collections.abc import Iterator

from database.integrity.checks.registry import FK_SECTION, SCHEMA_SECTION, Context, check
from database.integrity.findings import Finding, Severity
from database.integrity.scan import SCHEMA, Scan, attnames

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


@check(
    "invalid_indexes",
    SCHEMA_SECTION,
    "Drop it with `DROP INDEX CONCURRENTLY` and build it again once the cause of the "
    "failure (often duplicate values) is gone.",
)
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


@check(
    "redundant_indexes",
    SCHEMA_SECTION,
    "Drop the redundant index in a migration (`DROP INDEX CONCURRENTLY`); the other "
    "index serves the same queries.",
)
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


@check(
    "unindexed_foreign_keys",
    FK_SECTION,
    "Add an index leading with the referencing column(s) (`CREATE INDEX CONCURRENTLY`).",
)
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
