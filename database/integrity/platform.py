"""The live database compared with the running platform's own models (``contract/application``).

The platform's code, not this project's models, is the database's real client (D14): a column
its SQLAlchemy models map with another type, a table it maps that is missing, a NOT NULL it
does not fill, each is an outage or a silent change of meaning. ``compare`` reads the
platform's models (``database.schema.platform_contract``) against the live columns and says,
for each difference, what it does to the running code; what the driver cannot tell apart (jsonb for
JSON, bigint for Integer, unlimited text for String) is no difference at all, and what the
project decided on purpose (production's keys, production's lengths, the decisions of
``PRODUCTION_WINS`` and ``DELIBERATE``) is named with its decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from database.integrity.scan import SCHEMA
from database.schema import platform_contract
from database.schema.platform_contract import PlatformColumn, PlatformContract, PlatformTable

LIVE_COLUMNS = f"""
SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
       d.adbin IS NOT NULL OR a.attidentity <> '' OR a.attgenerated <> ''
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace AND n.nspname = '{SCHEMA}'
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
"""

# What the platform's driver reads and writes alike, by the model's type.
SAME_FOR_THE_DRIVER = {
    "INTEGER": {"integer", "bigint"},
    "VARCHAR": {"character varying", "text"},
    "TEXT": {"text", "character varying"},
    "FLOAT": {"double precision"},
    "BOOLEAN": {"boolean"},
    "JSON": {"json", "jsonb"},
    "UUID": {"uuid"},
    "TIMESTAMP WITHOUT TIME ZONE": {"timestamp without time zone"},
    "TIMESTAMP WITH TIME ZONE": {"timestamp with time zone"},
}
_SIZED = re.compile(r"^character varying\((\d+)\)$")
_TEXT_TYPES = {"character varying", "text"}


@dataclass(frozen=True)
class LiveColumn:
    type: str  # as format_type() prints it: character varying(255), integer, jsonb, …
    not_null: bool
    has_default: bool  # a default, an identity or a generated value

    @property
    def base_type(self) -> str:
        return "character varying" if _SIZED.match(self.type) else self.type

    @property
    def length(self) -> int | None:
        match = _SIZED.match(self.type)
        return int(match[1]) if match else None


LiveSchema = Mapping[str, Mapping[str, LiveColumn]]


@dataclass(frozen=True)
class Mismatch:
    """One place where the live database and the platform's models disagree."""

    table: str
    column: str | None
    kind: str  # missing table, missing column, key type, type, date-time, length, nullability
    model: str  # what the platform's model declares
    found: str  # what the database has
    effect: str  # what it does to the running platform
    breaks: bool  # the platform fails (True) or may change meaning / fail on some values
    decision: str | None = None  # a deliberate difference, and the decision that covers it

    @property
    def where(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table


def read_live_schema(rows) -> dict[str, dict[str, LiveColumn]]:
    """``LIVE_COLUMNS`` rows as ``{table: {column: LiveColumn}}``."""
    schema: dict[str, dict[str, LiveColumn]] = {}
    for table, column, type_, not_null, has_default in rows:
        schema.setdefault(table, {})[column] = LiveColumn(type_, not_null, has_default)
    return schema


def compare(
    contract: PlatformContract, live: LiveSchema, production: LiveSchema | None = None
) -> list[Mismatch]:
    """Every difference between ``live`` and the platform's models, table by table.

    ``production`` is the schema production was adopted with (``database/schema/baseline.json``): a
    legacy column that still has production's type there is production's choice (D16).
    """
    production = production or {}
    found: list[Mismatch] = []
    for table in contract:
        if table.name not in live:
            found.append(_missing_table(table))
            continue
        columns = live[table.name]
        for column in table.columns:
            if column.name not in columns:
                found.append(_missing_column(table, column))
                continue
            kept = production.get(table.name, {}).get(column.name)
            found.extend(_column_mismatches(column, columns[column.name], kept))
        found.extend(_unfilled_columns(table, columns))
    return found


def _class_names(table: PlatformTable) -> str:
    return ", ".join(name.rsplit(".", 1)[-1] for name in table.classes) or table.name


def _missing_table(table: PlatformTable) -> Mismatch:
    retired = platform_contract.contradiction(table.name)
    return Mismatch(
        table.name,
        None,
        "missing table",
        f"the platform maps it ({_class_names(table)})",
        "no such table",
        f"every query through {_class_names(table)} fails (relation does not exist)",
        breaks=True,
        decision=retired.project if retired else None,
    )


def _missing_column(table: PlatformTable, column: PlatformColumn) -> Mismatch:
    return Mismatch(
        table.name,
        column.name,
        "missing column",
        column.type,
        "no such column",
        f"every select and insert of {_class_names(table)} fails (column does not exist)",
        breaks=True,
    )


def _column_mismatches(
    column: PlatformColumn, live: LiveColumn, production: LiveColumn | None
) -> Iterator[Mismatch]:
    expected = platform_contract.expected_key_type(column)
    decided = platform_contract.contradiction(column.qualified_name)
    if expected != column.type and _alike(expected, live):
        # Production's integer key (PLATFORM.md), or a column referencing one.
        reason = decided.project if decided else "follows production's integer admin_users.id"
        yield _type_mismatch(column, live, decision=f"production wins (PLATFORM.md): {reason}")
    elif not _alike(column.type, live):
        if decided:
            yield _type_mismatch(column, live, decision=decided.project)
        elif _shorter(column, live):
            kept = production is not None and production.type == live.type
            yield Mismatch(
                column.table,
                column.name,
                "length",
                column.type,
                live.type,
                f"values longer than {live.length} characters fail to insert",
                breaks=False,
                decision="D16: the legacy table keeps production's length" if kept else None,
            )
        else:
            yield _type_mismatch(column, live)
    if _sends_null(column) and live.not_null and not live.has_default:
        yield Mismatch(
            column.table,
            column.name,
            "nullability",
            "nullable, no default",
            "NOT NULL without a default",
            "an insert that leaves the attribute unset fails: SQLAlchemy sends NULL",
            breaks=True,
        )


def _alike(model_type: str, live: LiveColumn) -> bool:
    """Whether the driver reads and writes ``live`` as ``model_type``, no value refused."""
    base, length = platform_contract.split_type(model_type)
    if live.base_type not in SAME_FOR_THE_DRIVER.get(base, {model_type}):
        return False
    return live.length is None or (length is not None and live.length >= length)


def _shorter(column: PlatformColumn, live: LiveColumn) -> bool:
    """A text column the database caps below the model's length (or caps at all)."""
    if column.base_type not in ("VARCHAR", "TEXT") or live.length is None:
        return False
    return column.length is None or live.length < column.length


def _sends_null(column: PlatformColumn) -> bool:
    """SQLAlchemy sends NULL for an unset attribute with no default (JSON sends 'null')."""
    return (
        column.nullable
        and not column.primary_key
        and column.default is None
        and column.server_default is None
        and column.type != "JSON"
    )


def _type_mismatch(column: PlatformColumn, live: LiveColumn, decision: str | None = None):
    kind = "key type" if column.primary_key or column.foreign_keys else "type"
    if column.is_datetime and live.base_type.startswith("timestamp"):
        kind = "date-time"
    return Mismatch(
        column.table,
        column.name,
        kind,
        column.type,
        live.type,
        _effect(column, live),
        breaks=True,
        decision=decision,
    )


def _effect(column: PlatformColumn, live: LiveColumn) -> str:
    model, found = column.base_type, live.base_type
    if column.is_datetime and found.startswith("timestamp"):
        if column.timezone_aware:
            return (
                "values come back naive: comparing them with aware date-times raises "
                "TypeError, and aware values written lose their zone"
            )
        return (
            "values come back timezone-aware: comparing them with datetime.utcnow() raises "
            "TypeError"
        )
    if model == "JSON":
        return "values come back as text, not the dicts and lists the code indexes"
    if found in ("json", "jsonb"):
        return "values come back as dicts and lists where the code expects text"
    if model == "UUID":
        return "values come back as text where the code compares uuid.UUID objects"
    if found == "uuid":
        return "values come back as uuid.UUID objects where the code expects text"
    if model in ("VARCHAR", "TEXT") and found in ("integer", "bigint", "smallint"):
        return "the app's text values (its str(uuid4()) keys) fail to insert"
    if found in _TEXT_TYPES:
        return f"values come back as text where the code expects {model.lower()}"
    return f"values are read and written as {found}, not {model.lower()}"


# Why a column the platform does not map is there (reported as info).
UNMAPPED = {
    "public_id": "the project's public identifier (TARGET_SCHEMA.md §2), filled by its "
    "database default",
    "users.registration_key_id": "a reference to the registration keys the mission retires "
    "(accounts.0007 archives it, then drops it; D1)",
    "content_logs.metadata": "a legacy column D1 keeps",
    "content_logs.scheduled_time": "a legacy column D1 keeps",
    "content_logs.engagement_score": "a legacy column D1 keeps",
    "response_templates.avg_satisfaction": "a legacy column D1 keeps",
}


def _unfilled_columns(table: PlatformTable, columns: Mapping[str, LiveColumn]):
    """Columns the platform does not map: an outage when NOT NULL without a default (its
    inserts never send them), otherwise harmless and named, with why they are there."""
    mapped = {column.name for column in table.columns}
    for name, live in sorted(columns.items()):
        if name in mapped:
            continue
        if live.not_null and not live.has_default:
            yield Mismatch(
                table.name,
                name,
                "nullability",
                "not mapped",
                f"{live.type} NOT NULL without a default",
                f"every insert through {_class_names(table)} fails: it never sends {name}",
                breaks=True,
            )
            continue
        reason = UNMAPPED.get(f"{table.name}.{name}") or UNMAPPED.get(name)
        yield Mismatch(
            table.name,
            name,
            "unmapped column",
            "no such attribute",
            live.type,
            "the platform neither reads nor writes it",
            breaks=False,
            decision=reason or "a column only the database and this project use",
        )


# -- the check --------------------------------------------------------------------------------

FIXES = {
    "missing table": "apply the forward migrations that create it (`python manage.py migrate`)",
    "missing column": "apply the forward migrations that add it (`python manage.py migrate`)",
    "key type": "give the column the model's type, or change the platform's model",
    "type": "give the column the model's type online, or change the platform's model",
    "date-time": "convert the column to the model's timestamp kind, or change the model's flag",
    "length": "widen the column (catalog-only for varchar), or cap the value in the platform",
    "nullability": "drop the NOT NULL or give the column a database default",
}


def production_schema() -> dict[str, dict[str, LiveColumn]]:
    """The legacy tables as production had them when adopted
    (``database/schema/baseline.json``)."""
    from database.schema import baseline

    return {
        table: {
            column["name"]: LiveColumn(
                column["type"], column["not_null"], bool(column["default"] or column["identity"])
            )
            for column in spec["columns"]
        }
        for table, spec in baseline.load_snapshot()["tables"].items()
    }


def finding_message(mismatch: Mismatch) -> str:
    if mismatch.column is None:
        told = f"{mismatch.kind}: {mismatch.model}; {mismatch.effect}."
    else:
        told = (
            f"{mismatch.kind}: the platform's model declares {mismatch.model}, the database "
            f"has {mismatch.found}; {mismatch.effect}."
        )
    if mismatch.decision:
        return f"{told} Deliberate: {mismatch.decision}."
    return f"{told} Fix: {FIXES[mismatch.kind]}."
