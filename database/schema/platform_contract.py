"""The running platform's SQLAlchemy models, as data (``contract/application``).

``platform_models.json`` records, per table the platform maps, each column as its SQLAlchemy
model declares it: the type as SQLAlchemy renders it for PostgreSQL, nullability, keys,
date-time awareness, UUID handling, the defaults the application sends and the foreign keys
(PLATFORM.md explains every key). ``load()`` turns it into frozen dataclasses, so anything that
compares the database with what the platform expects (the compatibility tests, and
``check_integrity`` later) reads one description. Nothing here imports SQLAlchemy.

``PRODUCTION_WINS`` lists, in one place, where the platform's models contradict production
(PLATFORM.md, last section): there the project keeps production's shape and the platform has
to change its models. ``expected_key_type`` applies those decisions to a column.

``python manage.py platform_contract`` regenerates the file from the platform's metadata;
``dumps`` is the file's exact text and ``diff`` names what changed, table by table and column
by column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

_SIZED = re.compile(r"^(?P<base>[A-Z ]+?)\((?P<length>\d+)\)$")

DATETIME_TYPES = ("TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP WITH TIME ZONE")


def split_type(type_: str) -> tuple[str, int | None]:
    """``VARCHAR(255)`` → ``("VARCHAR", 255)``; ``TEXT`` → ``("TEXT", None)``."""
    match = _SIZED.match(type_)
    return (match["base"], int(match["length"])) if match else (type_, None)


@dataclass(frozen=True)
class PlatformForeignKey:
    table: str
    column: str
    on_delete: str | None = None  # as the model declares it; None: the database's NO ACTION

    @property
    def target(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class PlatformDefault:
    """What the application sends for an unset attribute.

    ``kind`` is ``value`` (a constant: ``value`` holds it), ``generated_by_app`` (computed per
    row: ``str(uuid4())``, ``uuid4()``, ``naive UTC now``) or ``sql_by_app`` (an SQL expression
    the app sends, ``now()``).
    """

    kind: str
    value: Any


@dataclass(frozen=True)
class PlatformColumn:
    table: str
    name: str
    type: str  # as SQLAlchemy renders it: VARCHAR, VARCHAR(255), TIMESTAMP WITH TIME ZONE, …
    nullable: bool
    primary_key: bool = False
    unique: bool = False
    index: bool = False
    timezone_aware: bool | None = None  # date-times only
    python_uuid_objects: bool = False  # UUID columns only
    default: PlatformDefault | None = None
    server_default: str | None = None
    foreign_keys: tuple[PlatformForeignKey, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.table}.{self.name}"

    @property
    def base_type(self) -> str:
        """The type without its length: ``VARCHAR(255)`` → ``VARCHAR``."""
        return split_type(self.type)[0]

    @property
    def length(self) -> int | None:
        return split_type(self.type)[1]

    @property
    def is_datetime(self) -> bool:
        return self.type in DATETIME_TYPES


@dataclass(frozen=True)
class PlatformTable:
    name: str
    columns: tuple[PlatformColumn, ...]
    classes: tuple[str, ...] = ()  # the mapped classes; empty for a plain association Table
    unique_together: tuple[tuple[str, ...], ...] = ()

    def column(self, name: str) -> PlatformColumn:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r} in the platform's models")

    @property
    def primary_key(self) -> tuple[PlatformColumn, ...]:
        return tuple(column for column in self.columns if column.primary_key)

    @property
    def foreign_keys(self) -> Iterator[tuple[PlatformColumn, PlatformForeignKey]]:
        for column in self.columns:
            for foreign_key in column.foreign_keys:
                yield column, foreign_key

    @property
    def parents(self) -> set[str]:
        """Tables this one references (itself left out)."""
        return {fk.table for _, fk in self.foreign_keys if fk.table != self.name}

    @property
    def required_parents(self) -> set[str]:
        """Tables a row of this one cannot exist without: its NOT NULL references."""
        return {
            fk.table
            for column, fk in self.foreign_keys
            if fk.table != self.name and not column.nullable
        }


@dataclass(frozen=True)
class PlatformContract:
    tables: Mapping[str, PlatformTable] = field(default_factory=dict)

    def __iter__(self) -> Iterator[PlatformTable]:
        return iter(self.tables.values())

    def __len__(self) -> int:
        return len(self.tables)

    def table(self, name: str) -> PlatformTable:
        return self.tables[name]

    def column(self, qualified_name: str) -> PlatformColumn:
        table, column = qualified_name.split(".")
        return self.tables[table].column(column)

    def mismatched_foreign_keys(self) -> list[tuple[PlatformColumn, PlatformForeignKey]]:
        """References whose column type differs from the referenced key's in the models
        themselves (``UUID`` → ``VARCHAR`` organizations.id, ``UUID`` → ``INTEGER`` users.id):
        PostgreSQL cannot create such a foreign key."""
        found = []
        for table in self:
            for column, fk in table.foreign_keys:
                target = self.tables.get(fk.table)
                if target and target.column(fk.column).base_type != column.base_type:
                    found.append((column, fk))
        return found

    def dependency_order(self) -> list[str]:
        """Table names, each after the tables its NOT NULL references need (name order
        otherwise). Nullable references may point forwards: users and organizations
        reference each other, but only organizations.owner_id is required."""
        ordered: list[str] = []
        placed: set[str] = set()
        remaining = sorted(self.tables)
        while remaining:
            ready = [
                name
                for name in remaining
                if self.tables[name].required_parents & set(self.tables) <= placed
            ]
            if not ready:
                raise ValueError(f"foreign-key cycle among {remaining}")
            ordered.extend(ready)
            placed.update(ready)
            remaining = [name for name in remaining if name not in placed]
        return ordered


# --------------------------------------------------------------------------- production wins


@dataclass(frozen=True)
class Contradiction:
    """Where the platform's models contradict production, and what the project keeps."""

    subject: str  # "table.column", or a table name for a whole table
    platform: str  # what the platform's model declares
    project: str  # what the project keeps (production's shape, or a decision)
    reason: str


PRODUCTION_WINS: tuple[Contradiction, ...] = (
    Contradiction(
        "notifications.id",
        "VARCHAR, str(uuid4()) assigned by the app",
        "INTEGER (production's serial, holding data)",
        "Production's key holds data: the platform's own inserts of str(uuid4()) keys fail "
        "there today, before any upgrade. The platform must change its model.",
    ),
    Contradiction(
        "company_knowledge.id",
        "VARCHAR, str(uuid4()) assigned by the app",
        "INTEGER (production's serial, holding data)",
        "As notifications.id.",
    ),
    Contradiction(
        "admin_users.id",
        "VARCHAR, str(uuid4()) assigned by the app",
        "INTEGER (production's serial, holding data)",
        "As notifications.id. Every column referencing admin_users.id follows it.",
    ),
    Contradiction(
        "registration_keys",
        "a mapped table (RegistrationKey)",
        "retired: archived, then dropped (TARGET_SCHEMA.md D1)",
        "The mission retires the table; the platform's model of it goes with it.",
    ),
    Contradiction(
        "social_audit.user_id",
        "UUID (uuid objects) referencing users.id",
        "INTEGER referencing users.id",
        "users.id is an integer in production and in the platform's own User model: no "
        "foreign key can join a UUID to it. The project picks the type that can reference "
        "users.",
    ),
)

# Where the upgrade deliberately differs from a model in a way the platform's driver cannot
# tell (check_integrity lists them as info, with the decision).
DELIBERATE: tuple[Contradiction, ...] = (
    Contradiction(
        "admin_users.role",
        "the native enum adminrole",
        "character varying(20) checked against the role names (accounts.0009)",
        "The driver sends and reads the label as text either way; the check also admits "
        "SUPPORT, a role production's enum lacks.",
    ),
)

# The integer key production has where the platform declares a text or UUID one.
_INTEGER_KEYS = {"notifications.id", "company_knowledge.id", "admin_users.id"}
RETIRED_TABLES = frozenset(c.subject for c in PRODUCTION_WINS if "." not in c.subject)


def contradiction(subject: str) -> Contradiction | None:
    for item in (*PRODUCTION_WINS, *DELIBERATE):
        if item.subject == subject:
            return item
    return None


def expected_key_type(column: PlatformColumn) -> str:
    """The SQLAlchemy type the project keeps for ``column``, production winning.

    The type the platform declares, except for production's integer keys (and the columns
    referencing them) and ``social_audit.user_id``, which are ``INTEGER``.
    """
    if column.qualified_name in _INTEGER_KEYS or column.qualified_name == "social_audit.user_id":
        return "INTEGER"
    if any(fk.target in _INTEGER_KEYS for fk in column.foreign_keys):
        return "INTEGER"
    return column.type


def follows_production(column: PlatformColumn) -> bool:
    """True when the project's type for ``column`` differs from the model's on purpose."""
    return expected_key_type(column) != column.type


# --------------------------------------------------------------------------- loading


def _default(data: Mapping[str, Any] | None) -> PlatformDefault | None:
    if not data:
        return None
    ((kind, value),) = data.items()
    if kind not in ("value", "generated_by_app", "sql_by_app"):
        raise ValueError(f"unknown default kind {kind!r}")
    return PlatformDefault(kind, value)


def _foreign_key(data: Mapping[str, Any]) -> PlatformForeignKey:
    table, column = data["references"].split(".")
    return PlatformForeignKey(table, column, data.get("on_delete"))


def _column(table: str, data: Mapping[str, Any]) -> PlatformColumn:
    return PlatformColumn(
        table=table,
        name=data["name"],
        type=data["type"],
        nullable=data["nullable"],
        primary_key=data.get("primary_key", False),
        unique=data.get("unique", False),
        index=data.get("index", False),
        timezone_aware=data.get("timezone_aware"),
        python_uuid_objects=data.get("python_uuid_objects", False),
        default=_default(data.get("default")),
        server_default=data.get("server_default"),
        foreign_keys=tuple(_foreign_key(fk) for fk in data.get("foreign_keys", ())),
    )


def parse(data: Mapping[str, Any]) -> PlatformContract:
    tables = {
        name: PlatformTable(
            name=name,
            columns=tuple(_column(name, column) for column in spec["columns"]),
            classes=tuple(spec.get("classes", ())),
            unique_together=tuple(tuple(group) for group in spec.get("unique_together", ())),
        )
        for name, spec in data.items()
    }
    return PlatformContract(MappingProxyType(tables))


def default_path() -> Path:
    from django.conf import settings

    return settings.CONTRACT_DIR / "application" / "platform_models.json"


def load(path: Path | str | None = None) -> PlatformContract:
    """The platform's models from ``platform_models.json`` (the contract's, by default)."""
    return parse(json.loads(Path(path or default_path()).read_text()))


# --------------------------------------------------------------------------- writing, comparing


def dumps(data: Mapping[str, Any]) -> str:
    """The file's text for ``data``: keys sorted, one-space indentation, a final newline."""
    return json.dumps(data, sort_keys=True, indent=1) + "\n"


def diff(expected: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    """What differs between two ``platform_models.json`` documents, one line per table or
    column: ``+`` only in ``found``, ``-`` only in ``expected``, ``~`` changed (each key with
    its expected and found value; ``absent`` where a key is left out)."""
    lines = []
    for table in sorted(expected.keys() | found.keys()):
        if table not in found:
            lines.append(f"- table {table}")
        elif table not in expected:
            lines.append(f"+ table {table}")
        else:
            lines.extend(_diff_table(table, expected[table], found[table]))
    return lines


def _diff_table(table: str, expected: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    lines = [
        f"~ table {table}: {change}"
        for change in _changed_keys(
            {key: value for key, value in expected.items() if key != "columns"},
            {key: value for key, value in found.items() if key != "columns"},
        )
    ]
    old = {column["name"]: column for column in expected.get("columns", ())}
    new = {column["name"]: column for column in found.get("columns", ())}
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            lines.append(f"- column {table}.{name}")
        elif name not in old:
            lines.append(f"+ column {table}.{name}")
        elif changes := _changed_keys(old[name], new[name]):
            lines.append(f"~ column {table}.{name}: {'; '.join(changes)}")
    old_order = [name for name in old if name in new]
    new_order = [name for name in new if name in old]
    if old_order != new_order:
        lines.append(f"~ table {table}: column order {old_order} → {new_order}")
    return lines


def _changed_keys(expected: Mapping[str, Any], found: Mapping[str, Any]) -> list[str]:
    def show(data: Mapping[str, Any], key: str) -> str:
        return json.dumps(data[key], sort_keys=True) if key in data else "absent"

    # Compared as JSON text: 0, 0.0 and false are different defaults.
    return [
        f"{key} {show(expected, key)} → {show(found, key)}"
        for key in sorted(expected.keys() | found.keys())
        if show(expected, key) != show(found, key)
    ]
