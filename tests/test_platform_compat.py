"""The running platform keeps working on the upgraded database, through its own driver stack.

The platform (TailoredAgents/socialmedia2 at 76ca0fe) is a FastAPI service on SQLAlchemy 2.0 +
psycopg2. ``tests/platform_metadata.py`` rebuilds its tables as SQLAlchemy ``MetaData`` from
``contract/application/platform_models.json``; this module drives a copy of the sample
production database, adopted and upgraded (``adopted_template``), through a
``postgresql+psycopg2`` engine the way the platform does:

- every table and column the platform maps exists with a type its driver reads and writes the
  same way (one assertion lists every mismatch);
- per table: insert a row as the platform does (its own keys, parents first, naive or aware
  date-times by the model's flag, JSON values), read it back equal, compare date-times with
  ``datetime.utcnow()`` / ``datetime.now(UTC)``, update it, delete it. Each step commits, as
  the platform's sessions do (deferred foreign keys are checked then);
- the oracle: the same per-table operations on a database built by ``create_all()`` from the
  contract, the platform's own schema; what passes there must pass on the upgraded database;
- deleting a user who owns rows in every user-owned table, with the statement the platform
  issues (fastapi-users' ``session.delete(user)`` on its relationship-less ``UserTable``:
  a plain ``DELETE FROM users WHERE users.id = …``), succeeds and leaves nothing pointing at
  the user;
- a value in each platform secret format written before the upgrade reads back unchanged.

Where the platform's models contradict production, production wins
(``database.schema.platform_contract.PRODUCTION_WINS``): those cases are asserted explicitly, never
skipped: the platform's str keys fail on production before the upgrade too, and every other
column of those tables is exercised with production's key.

The session runs in UTC, as production's server does (R-8).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import (
    Column,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    cast,
    create_engine,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from database.integrity import platform
from database.schema import platform_contract
from database.schema.platform_contract import PlatformColumn, PlatformTable
from database.secrets import crypto
from tests import platform_metadata as pm
from tests.conftest import ScratchDatabase, run_manage

UTC = datetime.UTC
CONTRACT = pm.contract()
TABLES = sorted(table.name for table in CONTRACT)
RETIRED = platform_contract.RETIRED_TABLES
# Tables whose key (or a key they reference) is production's integer, not the model's text.
PRODUCTION_KEY_TABLES = sorted(
    {
        column.table
        for table in CONTRACT
        for column in table.columns
        if platform_contract.follows_production(column) and column.table not in RETIRED
    }
)


# --------------------------------------------------------------------------- databases


def engine_for(database: ScratchDatabase) -> Engine:
    """A psycopg2 engine on ``database``, session in UTC like production's server."""
    url = database.url.replace("postgres://", "postgresql+psycopg2://", 1)
    return create_engine(url, poolclass=NullPool, connect_args={"options": "-c timezone=UTC"})


@pytest.fixture(scope="module")
def upgraded(module_databases, adopted_template) -> Iterator[Engine]:
    """A copy of the adopted and upgraded sample production database."""
    engine = engine_for(module_databases("compat_upgraded", template=adopted_template))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def oracle(module_databases) -> Iterator[Engine]:
    """The platform's own schema: ``create_all()`` of the contract on an empty database."""
    engine = engine_for(module_databases("compat_oracle"))
    with engine.begin() as conn:
        conn.execute(text(pm.create_adminrole_sql()))
        pm.platform_metadata().create_all(conn)
    yield engine
    engine.dispose()


# --------------------------------------------------------------------------- the platform's rows


NAIVE = datetime.datetime(2025, 9, 7, 12, 30, 15, 123456)
JSON_VALUE = {"list": [1, 2.5, "two", None, True], "nested": {"ключ": "é"}, "empty": {}}


CHECKED_VALUES = """
SELECT c.relname, a.attname, pg_get_constraintdef(k.oid)
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
WHERE k.contype = 'c' AND array_length(k.conkey, 1) = 1
"""


def checked_values(engine: Engine) -> dict[tuple[str, str], list[str]]:
    """Columns whose CHECK allows a list of values (``col = ANY (ARRAY[...])``): the
    platform's code writes one of them there, not the harness's free text."""
    allowed = {}
    with engine.connect() as conn:
        for table, column, definition in conn.execute(text(CHECKED_VALUES)):
            values = re.findall(r"'((?:[^']|'')*)'::(?:character varying|text)", definition)
            if "ANY" in definition and values:
                allowed[(table, column)] = values
    return allowed


def value_for(column: PlatformColumn, token: str, variant: int, allowed=None):
    """A value of the model's type, as the platform's code would hand it to SQLAlchemy."""
    base = column.base_type
    if allowed and (column.table, column.name) in allowed:
        choices = allowed[(column.table, column.name)]
        return choices[variant % len(choices)]
    if base == "VARCHAR":  # short: production's shortest varchar is 20
        value = f"{column.name[:4]}{variant}-{token[:8]}"
        return value[: column.length] if column.length else value
    if base == "TEXT":
        return f"{column.name} {variant} {token} ✓ üñí"
    if base == "INTEGER":
        return 41 + variant
    if base == "FLOAT":
        return 0.5 + variant
    if base == "BOOLEAN":
        return variant % 2 == 0
    if base == "JSON":
        return {**JSON_VALUE, "variant": variant}
    if base == "UUID":
        value = uuid.uuid4()
        return value if column.python_uuid_objects else str(value)
    if column.is_datetime:
        value = NAIVE + datetime.timedelta(days=variant, minutes=variant)
        return value.replace(tzinfo=UTC) if column.timezone_aware else value
    if base == "adminrole":
        labels = pm.adminrole_labels()
        return labels[variant % len(labels)]
    raise ValueError(f"{column.qualified_name}: no value for {column.type}")


def own_key(column: PlatformColumn):
    """The key the platform assigns itself when the model has no default for it (goals,
    memory_content, workflow_executions: ``id=str(uuid.uuid4())`` in its services)."""
    if column.base_type == "VARCHAR":
        return str(uuid.uuid4())
    if column.base_type == "UUID":
        return uuid.uuid4() if column.python_uuid_objects else str(uuid.uuid4())
    return None  # integer keys: left to the database


@dataclass
class Platform:
    """Writes rows the way the platform's code does, through one ``MetaData`` flavour."""

    metadata: MetaData
    owner: int | None = None  # the user every users.id reference points at
    rows: dict[str, dict] = field(default_factory=dict)  # table -> the row created for it
    reuse: bool = False  # reuse parents already created (the deletion test)
    allowed: dict = field(default_factory=dict)  # CHECK-listed values, by (table, column)

    def table(self, name: str) -> Table:
        return self.metadata.tables[name]

    def key_column(self, name: str) -> str:
        return CONTRACT.table(name).primary_key[0].name

    def user_id(self, conn: Connection, column: PlatformColumn) -> int:
        """The owner; by default an existing sample user with no row in the table yet (the
        platform keeps one user_settings row per user, as the upgrade now enforces)."""
        if self.owner is not None:
            return self.owner
        owner = conn.execute(
            text(
                f"SELECT min(id) FROM users u WHERE NOT EXISTS (SELECT 1 FROM {column.table} t "
                f"WHERE t.{column.name} = u.id)"
            )
            if column.table != "users"
            else text("SELECT min(id) FROM users")
        ).scalar()
        if owner is None:  # the oracle is empty: the platform registers a user first
            owner = self.insert(conn, "users", default_organization_id=None)["id"]
        return owner

    def parent_key(self, conn: Connection, column: PlatformColumn, fk) -> object:
        if fk.table == column.table:
            return None  # self-references (created_by, parent_id …) stay empty
        if fk.table == "users":
            return self.user_id(conn, column)
        if self.reuse and fk.table in self.rows:
            key = self.rows[fk.table][fk.column]
        else:
            key = self.insert(conn, fk.table)[fk.column]
        if isinstance(self.table(column.table).c[column.name].type, UUID) and isinstance(key, str):
            return uuid.UUID(key)  # a UUID column over a text key: the app passes a UUID
        return key

    def values(self, conn: Connection, contract_table: PlatformTable, overrides: dict) -> dict:
        token = uuid.uuid4().hex[:12]
        values = dict(overrides)
        for column in contract_table.columns:
            if column.name in overrides:
                continue
            sa_column = self.table(contract_table.name).c[column.name]
            if column.foreign_keys:
                values[column.name] = self.parent_key(conn, column, column.foreign_keys[0])
            elif column.primary_key:
                if sa_column.default is None and not isinstance(sa_column.type, Integer):
                    values[column.name] = own_key(column)
            elif sa_column.default is None and sa_column.server_default is None:
                values[column.name] = value_for(column, token, 0, self.allowed)
        return {k: v for k, v in values.items() if v is not None}

    def insert(self, conn: Connection, name: str, **overrides) -> dict:
        """Insert a row of ``name`` (parents first); return the row as the database has it."""
        contract_table = CONTRACT.table(name)
        table = self.table(name)
        values = self.values(conn, contract_table, overrides)
        row = conn.execute(table.insert().values(**values).returning(*table.c)).mappings().one()
        row = dict(row)
        row["__sent__"] = values
        self.rows[name] = row
        return row


def key_filter(table: Table, row: dict):
    return [table.c[c.name] == row[c.name] for c in table.primary_key.columns]


def compare(problems: list[str], where: str, column: PlatformColumn, sent, found) -> None:
    if sent != found:
        problems.append(f"{where}: {column.name} sent {sent!r}, read back {found!r}")


def check_datetimes(problems: list[str], where: str, contract_table: PlatformTable, row) -> None:
    """Compare every date-time the way the platform's code does (naive or aware now)."""
    for column in contract_table.columns:
        value = row.get(column.name)
        if not column.is_datetime or value is None:
            continue
        now = datetime.datetime.now(UTC) if column.timezone_aware else datetime.datetime.utcnow()
        try:
            _ = value < now
        except TypeError as error:
            problems.append(
                f"{where}: {column.name} ({'aware' if column.timezone_aware else 'naive'} in "
                f"the model) read back as {value!r}: comparing with now raises {error}"
            )


def check_defaults(problems: list[str], contract_table: PlatformTable, row: dict) -> None:
    for column in contract_table.columns:
        default = column.default
        if column.name in row["__sent__"] or default is None or default.kind != "value":
            continue
        expected = default.value
        if column.type == "adminrole":
            expected = pm.adminrole_label(expected)
        compare(problems, "insert (default)", column, expected, row[column.name])


def platform_roundtrip(engine: Engine, metadata: MetaData, name: str) -> list[str]:
    """Insert, read back, update, read back, delete one row of ``name`` as the platform
    does, each step in its own committed transaction. The problems found, in order; a
    database error ends the run."""
    allowed = checked_values(engine)
    platform = Platform(metadata, allowed=allowed)
    contract_table = CONTRACT.table(name)
    table = metadata.tables[name]
    problems: list[str] = []
    step = "insert"
    try:
        with engine.begin() as conn:
            row = platform.insert(conn, name)
        sent = row["__sent__"]
        step = "read back"
        with engine.connect() as conn:
            found = conn.execute(select(table).where(*key_filter(table, row))).mappings().one()
        for column in contract_table.columns:
            if column.name in sent:
                compare(problems, "read back", column, sent[column.name], found[column.name])
        check_defaults(problems, contract_table, {**found, "__sent__": sent})
        check_datetimes(problems, "read back", contract_table, found)

        step = "update"
        changes = {
            column.name: value_for(column, uuid.uuid4().hex[:12], 1, allowed)
            for column in contract_table.columns
            if not column.primary_key and not column.foreign_keys
        }
        if changes:
            with engine.begin() as conn:
                conn.execute(update(table).where(*key_filter(table, row)).values(**changes))
            step = "read back after update"
            with engine.connect() as conn:
                found = conn.execute(select(table).where(*key_filter(table, row))).mappings().one()
            for column in contract_table.columns:
                if column.name in changes:
                    compare(problems, "update", column, changes[column.name], found[column.name])
            check_datetimes(problems, "after update", contract_table, found)

        step = "delete"
        with engine.begin() as conn:
            deleted = conn.execute(delete(table).where(*key_filter(table, row))).rowcount
        if deleted != 1:
            problems.append(f"delete: {deleted} rows deleted, expected 1")
    except SQLAlchemyError as error:
        problems.append(f"{step} failed: {describe(error)}")
    return problems


def describe(error: SQLAlchemyError) -> str:
    original = getattr(error, "orig", None) or error
    return f"{type(original).__name__}: {str(original).strip().splitlines()[0]}"


@pytest.fixture(scope="module")
def oracle_results(oracle) -> dict[str, list[str]]:
    return {name: platform_roundtrip(oracle, pm.platform_metadata(), name) for name in TABLES}


# --------------------------------------------------------------------------- schema


def platform_mismatches(engine: Engine) -> list[platform.Mismatch]:
    """The live database against the platform's models, as check_integrity compares them."""
    with engine.connect() as conn:
        live = platform.read_live_schema(conn.execute(text(platform.LIVE_COLUMNS)))
    return platform.compare(CONTRACT, live, platform.production_schema())


def described(mismatches) -> str:
    return "\n".join(
        f"  {m.where} ({m.kind}): expected {m.model}, found {m.found}" for m in mismatches
    )


# Columns production already types narrower than the platform's models: the upgrade keeps
# production's lengths (D16), and README "What the platform must change" lists them.
PRODUCTION_LENGTHS = {
    "notifications.title",
    "notifications.notification_type",
    "notifications.priority",
    "notifications.action_url",
    "notifications.action_label",
    "user_settings.secondary_color",
    "user_settings.industry_type",
    "user_settings.visual_style",
    "user_settings.image_quality",
    "user_settings.image_aspect_ratio",
}


def test_every_platform_column_exists_with_a_type_its_driver_handles_alike(upgraded):
    """Only differences a decision covers remain; production's narrow lengths among them."""
    mismatches = platform_mismatches(upgraded)

    undecided = [m for m in mismatches if not m.decision]
    assert not undecided, (
        f"the platform's models vs the upgraded database:\n{described(undecided)}"
    )
    assert {m.where for m in mismatches if m.kind == "length"} == PRODUCTION_LENGTHS


def test_the_oracle_schema_matches_the_models_itself(oracle):
    """The comparison itself is sound: the platform's own schema passes it, but for the one
    column even the oracle cannot declare as the models do (social_audit.user_id)."""
    mismatches = platform_mismatches(oracle)

    assert [(m.where, m.kind) for m in mismatches] == [("social_audit.user_id", "key type")]


# --------------------------------------------------------------------------- per table


@pytest.mark.parametrize("name", TABLES)
def test_the_platform_schema_accepts_the_platform_operations(oracle_results, name):
    """The oracle: on ``create_all()`` of the contract, each table's round trip passes (the
    harness does what the platform's schema allows)."""
    assert oracle_results[name] == []


@pytest.mark.parametrize("name", TABLES)
def test_the_platform_writes_and_reads_each_table(upgraded, oracle_results, name):
    if name in RETIRED:
        with upgraded.connect() as conn:
            exists = conn.execute(text("SELECT to_regclass(:t)"), {"t": name}).scalar()
        assert exists is None, f"{name} is retired by the mission (D1) and must be gone"
        assert platform_contract.contradiction(name) is not None
        return
    problems = platform_roundtrip(upgraded, pm.production_wins_metadata(), name)
    oracle = "passes" if not oracle_results[name] else "fails too"
    keys = (
        "; run with production's integer keys (PRODUCTION_WINS)"
        if name in PRODUCTION_KEY_TABLES
        else ""
    )
    assert not problems, (
        f"{name} (on the platform's own schema it {oracle}{keys}):\n  " + "\n  ".join(problems)
    )


# --------------------------------------------------------------------------- production wins


def insert_with_platform_key(engine: Engine, name: str) -> str:
    """Insert into ``name`` with the platform's str(uuid4()) key and only the columns
    production requires; the error's class and first line ("" if it went through)."""
    required = {
        "notifications": {"user_id": None, "title": "t", "message": "m"},
        "company_knowledge": {"user_id": None, "title": "t", "topic": "t", "content": "c"},
        "admin_users": {
            "username": f"a-{uuid.uuid4().hex[:8]}",
            "email": f"{uuid.uuid4().hex[:8]}@example.com",
            "hashed_password": "x",
            "role": "ADMIN",
            "created_at": datetime.datetime.utcnow(),
        },
    }[name]
    table = Table(
        name,
        MetaData(),
        Column("id", String, primary_key=True),
        *(Column(column, pm.ADMINROLE if column == "role" else None) for column in required),
    )
    try:
        with engine.begin() as conn:
            user_id = conn.execute(text("SELECT min(id) FROM users")).scalar()
            values = {k: (user_id if k == "user_id" else v) for k, v in required.items()}
            conn.execute(table.insert().values(id=str(uuid.uuid4()), **values))
    except DBAPIError as error:
        return describe(error)
    return ""


@pytest.fixture(scope="module")
def production(module_databases, production_template) -> Iterator[Engine]:
    """A copy of the sample production database, not adopted (before any upgrade)."""
    engine = engine_for(module_databases("compat_production", template=production_template))
    yield engine
    engine.dispose()


@pytest.mark.parametrize("name", ["notifications", "company_knowledge", "admin_users"])
def test_the_platform_text_keys_fail_on_production_before_the_upgrade_too(
    production, upgraded, name
):
    """Production's serial keys hold data; the platform's str(uuid4()) insert fails there
    today, so the upgrade, keeping those keys, makes nothing worse (PLATFORM.md)."""
    assert platform_contract.contradiction(f"{name}.id") is not None
    before = insert_with_platform_key(production, name)
    after = insert_with_platform_key(upgraded, name)
    assert before.startswith("InvalidTextRepresentation"), before
    assert after.startswith("InvalidTextRepresentation"), after


def test_the_platform_schema_cannot_reference_users_from_a_uuid(module_databases):
    """social_audit.user_id is declared UUID → users.id (integer): PostgreSQL cannot create
    that foreign key, so the project's integer is the only type that can reference users."""
    engine = engine_for(module_databases("compat_uuid_fk"))
    metadata = MetaData()
    Table("users", metadata, Column("id", Integer, primary_key=True))
    contract_column = CONTRACT.column("social_audit.user_id")
    Table(
        "social_audit",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column(
            "user_id",
            pm.sqlalchemy_type(contract_column, contract_column.type),
            ForeignKey("users.id", ondelete="SET NULL"),
        ),
    )
    try:
        with pytest.raises(DBAPIError, match="cannot be implemented"), engine.begin() as conn:
            metadata.create_all(conn)
    finally:
        engine.dispose()
    assert platform_contract.expected_key_type(contract_column) == "INTEGER"


# --------------------------------------------------------------------------- deleting a user


def user_owned_tables() -> list[str]:
    """Tables whose rows belong to a user, directly or through their parents, in FK order."""
    owned = {"users"}
    changed = True
    while changed:
        changed = False
        for table in CONTRACT:
            if table.name not in owned and table.name not in RETIRED and table.parents & owned:
                owned.add(table.name)
                changed = True
    return [name for name in CONTRACT.dependency_order() if name in owned - {"users"}]


def test_deleting_a_user_who_owns_rows_everywhere(module_databases, adopted_template):
    """The platform deletes a user with fastapi-users' ``session.delete(user)`` on a mapped
    class without relationships: one ``DELETE FROM users WHERE users.id = …``. The database
    must take care of everything that points at the user."""
    engine = engine_for(module_databases("compat_delete_user", template=adopted_template))
    metadata = pm.production_wins_metadata()
    users = metadata.tables["users"]
    platform = Platform(metadata, reuse=True, allowed=checked_values(engine))
    problems: list[str] = []
    created: dict[str, dict] = {}
    with engine.begin() as conn:
        # Foreign keys checked at each statement, so one table's failure costs only itself.
        conn.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        platform.owner = platform.insert(conn, "users", default_organization_id=None)["id"]
        # Owning an organization protects a user from deletion (see the next test), so the
        # user's organization, and everything under it, is owned by someone else.
        someone_else = conn.execute(
            select(users.c.id).where(users.c.id != platform.owner).limit(1)
        ).scalar_one()
        created["organizations"] = platform.insert(conn, "organizations", owner_id=someone_else)
        for name in user_owned_tables():
            if name in created:
                continue
            try:
                with conn.begin_nested():
                    created[name] = platform.insert(conn, name)
            except SQLAlchemyError as error:
                platform.rows.pop(name, None)
                problems.append(
                    f"cannot create a {name} row as the platform does: {describe(error)}"
                )
        if "organizations" in created:  # users <-> organizations: the reference back
            conn.execute(
                update(users)
                .where(users.c.id == platform.owner)
                .values(default_organization_id=created["organizations"]["id"])
            )
    user_id = platform.owner
    try:
        with engine.begin() as conn:
            conn.execute(delete(users).where(users.c.id == user_id))
    except SQLAlchemyError as error:
        engine.dispose()
        pytest.fail("\n".join([*problems, f"DELETE FROM users failed: {describe(error)}"]))

    with engine.connect() as conn:
        for name, row in created.items():
            table = metadata.tables[name]
            still = conn.execute(select(table).where(*key_filter(table, row))).mappings().first()
            if still is None:
                continue
            for column, fk in CONTRACT.table(name).foreign_keys:
                value = still[column.name]
                if value is None or fk.table == name:
                    continue
                if fk.table == "users" and value == user_id:
                    problems.append(f"{name}.{column.name} still points at the deleted user")
                    continue
                parent = metadata.tables[fk.table]
                # As text: the models point UUID columns at text keys (organization_id).
                exists = conn.execute(
                    select(parent.c[fk.column]).where(
                        cast(parent.c[fk.column], Text) == str(value)
                    )
                ).first()
                if exists is None:
                    problems.append(
                        f"{name}.{column.name} = {value!r} points at a deleted {fk.table} row"
                    )
    engine.dispose()
    assert not problems, "\n".join(problems)


def test_an_organization_owner_is_deleted_only_after_handing_it_over(
    module_databases, adopted_template
):
    """organizations.owner_id is NO ACTION, as on the platform's own schema (its model
    declares no delete rule): deleting an owner would orphan a whole tenant, so the database
    refuses until the organization has another owner."""
    engine = engine_for(module_databases("compat_delete_owner", template=adopted_template))
    metadata = pm.production_wins_metadata()
    users, organizations = metadata.tables["users"], metadata.tables["organizations"]
    platform = Platform(metadata, reuse=True, allowed=checked_values(engine))
    with engine.begin() as conn:
        owner = platform.insert(conn, "users", default_organization_id=None)["id"]
        platform.owner = owner
        organization = platform.insert(conn, "organizations", owner_id=owner)["id"]
        successor = conn.execute(
            select(users.c.id).where(users.c.id != owner).limit(1)
        ).scalar_one()

    with pytest.raises(IntegrityError, match="organizations"), engine.begin() as conn:
        conn.execute(delete(users).where(users.c.id == owner))

    with engine.begin() as conn:
        conn.execute(
            update(organizations)
            .where(organizations.c.id == organization)
            .values(owner_id=successor)
        )
        conn.execute(delete(users).where(users.c.id == owner))
        assert conn.execute(select(users.c.id).where(users.c.id == owner)).first() is None
    engine.dispose()


# --------------------------------------------------------------------------- secrets


def token_manager_blob(payload: dict) -> str:
    """The platform's token manager format: urlsafe base64 of a Fernet token of JSON."""
    token = Fernet(Fernet.generate_key()).encrypt(json.dumps(payload).encode())
    return base64.urlsafe_b64encode(token).decode()


CODES = ["A1B2-C3D4", "E5F6-G7H8", "J9K0-L1M2"]
SECRETS = {
    "users.two_factor_secret": Fernet(Fernet.generate_key()).encrypt(b"JBSWY3DPEHPK3PXP").decode(),
    "users.two_factor_backup_codes": [hashlib.sha256(c.encode()).hexdigest() for c in CODES],
    "social_platform_connections.access_token": token_manager_blob(
        {"access_token": "tw-access", "token_type": "Bearer", "expires_in": 7200}
    ),
    "user_settings.connected_accounts": {
        "twitter": {"access_token": "tw-plain-access", "refresh_token": "tw-plain-refresh"}
    },
}


@pytest.fixture(scope="module")
def secrets_upgraded(module_databases, production_template) -> Iterator[tuple[Engine, dict]]:
    """Production with a value in each platform secret format, then adopted and upgraded."""
    database = module_databases("compat_secrets", template=production_template)
    refresh = crypto.encrypt("tw-refresh")  # the D12 envelope, as encryption.py writes it
    secrets = {**SECRETS, "social_platform_connections.refresh_token": refresh}
    assert secrets["users.two_factor_secret"].startswith("gAAAAA")
    assert secrets["social_platform_connections.access_token"].startswith("Z0FBQUFB")
    ((user_id,),) = database.execute(
        "INSERT INTO users (email, username, two_factor_enabled, two_factor_secret, "
        "two_factor_backup_codes) VALUES ('secret@example.com', 'secret', true, %s, %s) "
        "RETURNING id",
        [secrets["users.two_factor_secret"], json.dumps(secrets["users.two_factor_backup_codes"])],
    )
    database.execute(
        "INSERT INTO social_platform_connections (user_id, platform, platform_user_id, "
        "platform_username, access_token, refresh_token) VALUES (%s, 'twitter', '42', 'secret', "
        "%s, %s)",
        [
            user_id,
            secrets["social_platform_connections.access_token"],
            secrets["social_platform_connections.refresh_token"],
        ],
    )
    database.execute(
        "INSERT INTO user_settings (user_id, connected_accounts) VALUES (%s, %s)",
        [user_id, json.dumps(secrets["user_settings.connected_accounts"])],
    )
    result = run_manage(
        "migrate",
        "--fake-initial",
        "--no-input",
        database_url=database.url,
        env={"DJANGO_DEVELOPMENT_KEYS": "1"},
    )
    assert result.returncode == 0, result.stderr
    engine = engine_for(database)
    yield engine, {"user_id": user_id, "secrets": secrets}
    engine.dispose()


@pytest.mark.parametrize(
    "column",
    [
        "users.two_factor_secret",
        "users.two_factor_backup_codes",
        "social_platform_connections.access_token",
        "social_platform_connections.refresh_token",
        "user_settings.connected_accounts",
    ],
)
def test_a_platform_secret_written_before_the_upgrade_reads_back_unchanged(
    secrets_upgraded, column
):
    engine, written = secrets_upgraded
    table_name, column_name = column.split(".")
    table = pm.production_wins_metadata().tables[table_name]
    owner = table.c.id if table_name == "users" else table.c.user_id
    with engine.connect() as conn:
        value = conn.execute(
            select(table.c[column_name]).where(owner == written["user_id"])
        ).scalar_one()
    assert value == written["secrets"][column], (
        f"{column}: the platform reads {value!r} where it wrote "
        f"{written['secrets'][column]!r} before the upgrade"
    )


# --------------------------------------------------------------------------- enumerated values

# Values the platform's code writes into columns the upgrade now lists in a CHECK, read from
# its services at 76ca0fe: the workflow API accepts these workflow types
# (backend/api/workflow_v2.py, ExecuteWorkflowRequest), the memory API these content types
# (backend/api/memory_v2.py, StoreContentRequest), and AdminRole has these members
# (backend/db/admin_models.py; SQLAlchemy stores the member names).
PLATFORM_VALUES = {
    "memory_content.content_type": ["research", "post", "insight", "trend", "note", "template"],
    "workflow_executions.workflow_type": [
        "daily",
        "optimization",
        "manual",
        "research",
        "content_generation",
    ],
    "admin_users.role": ["SUPER_ADMIN", "ADMIN", "MODERATOR", "SUPPORT"],
}


@pytest.mark.parametrize("column", sorted(PLATFORM_VALUES))
def test_the_checks_accept_every_value_the_platform_writes(upgraded, column):
    allowed = checked_values(upgraded).get(tuple(column.split(".")))
    if allowed is None:
        return  # no list of values is enforced there: every value passes
    refused = [value for value in PLATFORM_VALUES[column] if value not in allowed]
    assert not refused, f"{column}: the database refuses {refused} (it allows {allowed})"
