"""The platform's tables as SQLAlchemy ``MetaData``, built at test time from the contract.

Nothing here is copied from the platform's code: every ``Table`` is derived from
``contract/application/platform_models.json`` (``database.schema.platform_contract``), so the
compatibility suite talks to the database the way the platform's SQLAlchemy 2.0 + psycopg2
stack does: same column types (hence the same bind and result processing), same Python-side
defaults, same server defaults.

Two flavours:

- ``platform_metadata()``: the models as they are (the oracle database is built from it with
  ``create_all``). One unavoidable exception: ``social_audit.user_id`` is declared ``UUID``
  referencing the integer ``users.id``, which PostgreSQL refuses to create
  (``test_the_platform_schema_cannot_reference_users_from_a_uuid`` proves it), so even the
  oracle uses ``INTEGER`` there.
- ``production_wins_metadata()``: the models with production winning where they contradict it
  (``database.schema.platform_contract.PRODUCTION_WINS``): ``notifications.id``,
  ``company_knowledge.id`` and ``admin_users.id`` are production's serial integers (left to the
  database, like every integer key) and every column referencing ``admin_users.id`` is an
  integer too; ``social_audit.user_id`` is an integer. This is what the platform's models must
  become; the suite exercises every other column of those tables through it.

The models are not consistent with themselves either: ``content_drafts``,
``content_schedules``, ``social_connections`` and ``social_audit`` declare ``organization_id``
``UUID`` referencing ``organizations.id``, which they declare ``VARCHAR`` (TARGET_SCHEMA.md
R-3). PostgreSQL cannot create such a foreign key, so the oracle keeps the declared types and
leaves those constraints out (``PlatformContract.mismatched_foreign_keys``); the platform
passes ``uuid.UUID`` objects there, made from the organization's text key.

``registration_keys`` is in both (the oracle still exercises it); the mission retires it from
the project's database (D1), which the suite asserts rather than skips.
"""

from __future__ import annotations

import datetime
import re
import uuid
from functools import cache

from django.conf import settings
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ENUM, UUID

from database.schema import platform_contract
from database.schema.platform_contract import PlatformColumn, PlatformContract

# --------------------------------------------------------------------------- the admin role enum


@cache
def adminrole_labels() -> tuple[str, ...]:
    """The labels of production's ``adminrole`` type, read from the production contract.

    The platform maps ``Enum(AdminRole)`` over a Python ``str`` enum whose member *names*
    (``SUPER_ADMIN``, ``ADMIN``, ``MODERATOR``) SQLAlchemy stores; the contract records the
    default as the member's value (``admin``), i.e. the label ``ADMIN``.
    """
    sql = (settings.CONTRACT_DIR / "legacy" / "production_schema.sql").read_text()
    body = re.search(r"CREATE TYPE public\.adminrole AS ENUM \((.*?)\);", sql, re.S)[1]
    return tuple(re.findall(r"'([^']*)'", body))


def adminrole_label(value: str) -> str:
    """The label SQLAlchemy writes for the AdminRole member whose value is ``value``."""
    label = value.upper()
    assert label in adminrole_labels(), (value, adminrole_labels())
    return label


ADMINROLE = ENUM(*adminrole_labels(), name="adminrole", create_type=False)


def create_adminrole_sql() -> str:
    labels = ", ".join(f"'{label}'" for label in adminrole_labels())
    return f"CREATE TYPE adminrole AS ENUM ({labels})"


# --------------------------------------------------------------------------- types and defaults


def sqlalchemy_type(column: PlatformColumn, type_name: str):
    """The SQLAlchemy type the platform declares, from its rendered name."""
    base = type_name.split("(")[0]
    length = column.length if type_name == column.type else None
    if base == "VARCHAR":
        return String(length)
    if type_name == "TEXT":
        return Text()
    if type_name == "INTEGER":
        return Integer()
    if type_name == "FLOAT":
        return Float()
    if type_name == "BOOLEAN":
        return Boolean()
    if type_name == "JSON":
        return JSON()
    if type_name == "UUID":
        return UUID(as_uuid=column.python_uuid_objects)
    if type_name == "TIMESTAMP WITHOUT TIME ZONE":
        return DateTime(timezone=False)
    if type_name == "TIMESTAMP WITH TIME ZONE":
        return DateTime(timezone=True)
    if type_name == "adminrole":
        return ADMINROLE
    raise ValueError(f"{column.qualified_name}: no mapping for type {type_name!r}")


def _str_uuid4() -> str:
    return str(uuid.uuid4())


GENERATED = {
    "str(uuid4())": _str_uuid4,
    "uuid4()": uuid.uuid4,
    "naive UTC now": datetime.datetime.utcnow,  # what the platform's code calls
}
SQL = {"now()": func.now}


def python_default(column: PlatformColumn, key_follows_production: bool):
    default = column.default
    if default is None:
        return None
    if key_follows_production and column.primary_key:
        return None  # production's serial: the database assigns it
    if default.kind == "value":
        if column.type == "adminrole":
            return adminrole_label(default.value)
        return default.value
    if default.kind == "generated_by_app":
        return GENERATED[default.value]
    return SQL[default.value]()


def server_default(column: PlatformColumn):
    if column.server_default is None:
        return None
    if column.server_default == "now()":
        return func.now()
    return text(column.server_default)


# --------------------------------------------------------------------------- tables


def build_metadata(contract: PlatformContract, *, production_wins: bool) -> MetaData:
    metadata = MetaData()
    # The models' own UUID → VARCHAR references (R-3) cannot be foreign keys in PostgreSQL:
    # the oracle keeps the declared types and leaves the constraint out.
    unbuildable = contract.mismatched_foreign_keys()
    for table in contract:
        columns = []
        for column in table.columns:
            type_name = column.type
            follows = False
            if production_wins and platform_contract.follows_production(column):
                type_name = platform_contract.expected_key_type(column)
                follows = True
            elif column.qualified_name == "social_audit.user_id":
                # Even the platform's own schema cannot join a uuid to users.id (integer).
                type_name = platform_contract.expected_key_type(column)
                follows = True
            foreign_keys = [
                ForeignKey(fk.target, ondelete=fk.on_delete)
                for fk in column.foreign_keys
                if (column, fk) not in unbuildable or follows
            ]
            integer_key = column.primary_key and type_name == "INTEGER"
            columns.append(
                Column(
                    column.name,
                    sqlalchemy_type(column, type_name),
                    *foreign_keys,
                    primary_key=column.primary_key,
                    nullable=column.nullable,
                    unique=column.unique or None,
                    index=column.index or None,
                    default=python_default(column, follows),
                    server_default=server_default(column),
                    autoincrement=bool(integer_key and len(table.primary_key) == 1),
                )
            )
        constraints = [UniqueConstraint(*group) for group in table.unique_together]
        Table(table.name, metadata, *columns, *constraints)
    return metadata


@cache
def contract() -> PlatformContract:
    return platform_contract.load()


@cache
def platform_metadata() -> MetaData:
    return build_metadata(contract(), production_wins=False)


@cache
def production_wins_metadata() -> MetaData:
    return build_metadata(contract(), production_wins=True)
