"""Sequences behind their column, and keys running out of range."""

from collections.abc import Iterator
from dataclasses import dataclass

from database.integrity.checks.registry import DATA_SECTION, Context, check
from database.integrity.findings import Finding, Severity
from database.integrity.scan import SCHEMA, TYPE_MAX, Scan

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


@check(
    "sequences_behind",
    DATA_SECTION,
    "Move the sequence past the highest id: `SELECT setval('<sequence>', "
    "max(<column>)) FROM <table>`.",
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


@check(
    "key_capacity",
    DATA_SECTION,
    "Plan the move to bigint (an online column change) before the range runs out.",
)
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
