"""Read a schema's catalog into plain data, and compare two such readings.

The reading is what ``pg_dump --schema-only`` would print for a set of tables, normalised:
columns in order with type, nullability and default; constraints and indexes by name with
their definitions; owned sequences with their parameters; triggers; enum types. It needs
only read access to the system catalogs.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

Catalog = dict[str, Any]

_COLUMNS = """
SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

_CONSTRAINTS = """
SELECT c.relname, con.conname, pg_catalog.pg_get_constraintdef(con.oid)
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s
"""

_INDEXES = """
SELECT c.relname, i.relname, pg_catalog.pg_get_indexdef(x.indexrelid), x.indisvalid
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class c ON c.oid = x.indrelid
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s
"""

_SEQUENCES = """
SELECT t.relname, s.relname, a.attname, d.deptype,
       pg_catalog.format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement,
       q.seqmin, q.seqmax, q.seqcache, q.seqcycle
FROM pg_catalog.pg_sequence q
JOIN pg_catalog.pg_class s ON s.oid = q.seqrelid
JOIN pg_catalog.pg_depend d ON d.objid = s.oid
     AND d.classid = 'pg_catalog.pg_class'::regclass
     AND d.refclassid = 'pg_catalog.pg_class'::regclass
JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %(schema)s
"""

_TRIGGERS = """
SELECT c.relname, t.tgname, pg_catalog.pg_get_triggerdef(t.oid)
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND NOT t.tgisinternal
"""

_ENUMS = """
SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder)
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = %(schema)s
GROUP BY t.typname
"""


def read_catalog(cursor, tables: Iterable[str] | None = None, schema: str = "public") -> Catalog:
    """Return the catalog of ``tables`` (every table of ``schema`` when None).

    Expressions are rendered with an empty search path, so names come out qualified and the
    reading does not depend on the session's settings.
    """
    cursor.execute("SELECT pg_catalog.set_config('search_path', '', true)")
    wanted = set(tables) if tables is not None else None
    params = {"schema": schema}
    result: dict[str, dict[str, Any]] = {}

    def table(name: str) -> dict[str, Any] | None:
        if wanted is not None and name not in wanted:
            return None
        return result.setdefault(
            name,
            {"columns": [], "constraints": {}, "indexes": {}, "sequences": {}, "triggers": {}},
        )

    cursor.execute(_COLUMNS, params)
    for relname, column, type_, not_null, default, identity in cursor.fetchall():
        if (entry := table(relname)) is not None:
            entry["columns"].append(
                {
                    "name": column,
                    "type": type_,
                    "not_null": not_null,
                    "default": default,
                    "identity": identity or None,
                }
            )
    cursor.execute(_CONSTRAINTS, params)
    for relname, name, definition in cursor.fetchall():
        if (entry := table(relname)) is not None:
            entry["constraints"][name] = definition
    cursor.execute(_INDEXES, params)
    for relname, name, definition, valid in cursor.fetchall():
        if (entry := table(relname)) is not None:
            entry["indexes"][name] = definition if valid else f"{definition} -- INVALID"
    cursor.execute(_SEQUENCES, params)
    for relname, name, column, deptype, *parameters in cursor.fetchall():
        if (entry := table(relname)) is not None:
            type_, start, increment, minimum, maximum, cache, cycle = parameters
            entry["sequences"][name] = (
                f"{type_} owned by {column} ({'identity' if deptype == 'i' else 'serial'}) "
                f"start {start} increment {increment} min {minimum} max {maximum} "
                f"cache {cache}{' cycle' if cycle else ''}"
            )
    cursor.execute(_TRIGGERS, params)
    for relname, name, definition in cursor.fetchall():
        if (entry := table(relname)) is not None:
            entry["triggers"][name] = definition
    cursor.execute(_ENUMS, params)
    enums = {name: list(labels) for name, labels in cursor.fetchall()}
    return {"tables": dict(sorted(result.items())), "enums": dict(sorted(enums.items()))}


@dataclass(frozen=True)
class Difference:
    table: str
    kind: str
    name: str
    expected: Any
    found: Any

    def __str__(self) -> str:
        where = f"{self.table}.{self.name}" if self.name else self.table
        return f"{where}: {self.kind}: {self.explained()}"

    def explained(self) -> str:
        """What was expected and what was found, in the operator's terms.

        A column's nullability reads as NOT NULL or nullable, and its identity as the clause
        that declares it, rather than as the catalog's flags.
        """
        if self.kind == "column nullability":
            return (
                "NOT NULL expected, the column is nullable"
                if self.expected
                else "nullable expected, the column is NOT NULL"
            )
        if self.kind == "column identity":
            return f"expected {_identity(self.expected)}, found {_identity(self.found)}"
        return f"expected {_show(self.expected)}, found {_show(self.found)}"


def _show(value: Any) -> str:
    return "nothing" if value is None else repr(value)


_IDENTITIES = {"a": "GENERATED ALWAYS AS IDENTITY", "d": "GENERATED BY DEFAULT AS IDENTITY"}


def _identity(value: str | None) -> str:
    return _IDENTITIES.get(value, "no identity") if value else "no identity"


def diff_catalogs(expected: Catalog, found: Catalog) -> list[Difference]:
    """Every difference between two catalog readings, in a stable order."""
    differences = list(_diff_enums(expected["enums"], found["enums"]))
    for name in sorted(set(expected["tables"]) | set(found["tables"])):
        want, have = expected["tables"].get(name), found["tables"].get(name)
        if want is None:
            differences.append(Difference(name, "extra table", "", None, "table"))
        elif have is None:
            differences.append(Difference(name, "missing table", "", "table", None))
        else:
            differences.extend(_diff_table(name, want, have))
    return differences


def _diff_enums(expected: dict, found: dict) -> Iterator[Difference]:
    for name in sorted(set(expected) | set(found)):
        if expected.get(name) != found.get(name):
            yield Difference("(types)", "enum type", name, expected.get(name), found.get(name))


def _diff_table(table: str, expected: dict, found: dict) -> Iterator[Difference]:
    yield from _diff_columns(table, expected["columns"], found["columns"])
    for section, kind in [
        ("constraints", "constraint"),
        ("indexes", "index"),
        ("sequences", "sequence"),
        ("triggers", "trigger"),
    ]:
        want, have = expected[section], found[section]
        for name in sorted(set(want) | set(have)):
            if name not in have:
                yield Difference(table, f"missing {kind}", name, want[name], None)
            elif name not in want:
                yield Difference(table, f"extra {kind}", name, None, have[name])
            elif want[name] != have[name]:
                yield Difference(table, kind, name, want[name], have[name])


def _diff_columns(table: str, expected: list[dict], found: list[dict]) -> Iterator[Difference]:
    want = {column["name"]: column for column in expected}
    have = {column["name"]: column for column in found}
    for name, column in want.items():
        if name not in have:
            yield Difference(table, "missing column", name, column["type"], None)
            continue
        for attribute in ("type", "not_null", "default", "identity"):
            if column[attribute] != have[name][attribute]:
                label = "nullability" if attribute == "not_null" else attribute
                yield Difference(
                    table, f"column {label}", name, column[attribute], have[name][attribute]
                )
    for name, column in have.items():
        if name not in want:
            yield Difference(table, "extra column", name, None, column["type"])
    shared_order = [name for name in want if name in have]
    if shared_order != [name for name in have if name in want]:
        yield Difference(
            table,
            "column order",
            "",
            shared_order,
            [name for name in have if name in want],
        )
