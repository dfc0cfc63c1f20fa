"""``manage.py platform_contract``: the platform's SQLAlchemy metadata as platform_models.json.

The fixture application (``tests/platform_fixture``) declares its tables the way the platform
does; the command runs on it as on the platform's checkout (``--source``). None of these tests
touches a database: the subprocesses get a ``DATABASE_URL`` nothing listens at.
"""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from database.management.commands.platform_contract import describe
from database.schema import platform_contract

FIXTURE_SOURCE = Path(__file__).parent
FIXTURE_ARGS = [
    "--source",
    str(FIXTURE_SOURCE),
    "--metadata",
    "platform_fixture.db:Base",
    "--models",
    "platform_fixture.models",
]
NOWHERE = "postgres://nobody@127.0.0.1:9/none"  # the command must never connect

NOW = {"sql_by_app": "now()"}

EXPECTED = {
    "accounts": {
        "classes": ["platform_fixture.models.Account"],
        "columns": [
            {
                "name": "id",
                "type": "INTEGER",
                "nullable": False,
                "primary_key": True,
                "index": True,
            },
            {
                "name": "email",
                "type": "VARCHAR(255)",
                "nullable": False,
                "unique": True,
                "index": True,
            },
            {
                "name": "role",
                "type": "accountrole",
                "nullable": False,
                "default": {"value": "member"},  # Role.MEMBER, by its value
            },
            {"name": "settings", "type": "JSON", "nullable": True, "default": {"value": {}}},
            {
                "name": "created_at",
                "type": "TIMESTAMP WITHOUT TIME ZONE",
                "nullable": True,
                "timezone_aware": False,
                "default": {"generated_by_app": "naive UTC now"},
            },
            {  # onupdate only: not recorded
                "name": "updated_at",
                "type": "TIMESTAMP WITH TIME ZONE",
                "nullable": True,
                "timezone_aware": True,
            },
        ],
    },
    "drafts": {
        "classes": ["platform_fixture.models.Draft"],
        "columns": [
            {
                "name": "id",
                "type": "UUID",
                "nullable": False,
                "primary_key": True,
                "python_uuid_objects": True,
                "default": {"generated_by_app": "uuid4()"},
            },
            {
                "name": "workspace_id",
                "type": "VARCHAR",
                "nullable": True,
                "index": True,
                "foreign_keys": [{"references": "workspaces.id"}],
            },
            {"name": "body", "type": "TEXT", "nullable": False},
            {"name": "score", "type": "FLOAT", "nullable": True, "default": {"value": 0.0}},
            {
                "name": "status",
                "type": "VARCHAR(50)",
                "nullable": True,
                "default": {"value": "draft"},
            },
            {
                "name": "edited_at",
                "type": "TIMESTAMP WITHOUT TIME ZONE",
                "nullable": True,
                "timezone_aware": False,
                "default": NOW,
            },
        ],
    },
    "workspace_members": {  # a plain Table: no classes
        "columns": [
            {
                "name": "workspace_id",
                "type": "VARCHAR",
                "nullable": False,
                "primary_key": True,
                "foreign_keys": [{"references": "workspaces.id"}],
            },
            {
                "name": "account_id",
                "type": "INTEGER",
                "nullable": False,
                "primary_key": True,
                "foreign_keys": [{"references": "accounts.id", "on_delete": "CASCADE"}],
            },
            {
                "name": "joined_at",
                "type": "TIMESTAMP WITH TIME ZONE",
                "nullable": True,
                "timezone_aware": True,
                "server_default": "now()",
            },
        ],
    },
    "workspaces": {
        "classes": ["platform_fixture.models.Workspace"],
        "columns": [
            {
                "name": "id",
                "type": "VARCHAR",
                "nullable": False,
                "primary_key": True,
                "default": {"generated_by_app": "str(uuid4())"},
            },
            {
                "name": "owner_id",
                "type": "INTEGER",
                "nullable": False,
                "foreign_keys": [{"references": "accounts.id", "on_delete": "CASCADE"}],
            },
            {"name": "name", "type": "VARCHAR", "nullable": False},
            {"name": "slug", "type": "VARCHAR", "nullable": False, "unique": True},
            {"name": "tags", "type": "JSON", "nullable": True, "default": {"value": []}},
            {"name": "is_active", "type": "BOOLEAN", "nullable": True, "default": {"value": True}},
            {
                "name": "created_at",
                "type": "TIMESTAMP WITH TIME ZONE",
                "nullable": True,
                "timezone_aware": True,
                "server_default": "now()",
            },
        ],
        "unique_together": [["name", "owner_id"]],  # UniqueConstraint("owner_id", "name")
    },
}


@pytest.fixture(autouse=True)
def _restore_sys_path(monkeypatch):
    """The command puts --source on sys.path; keep that to each test."""
    monkeypatch.setattr(sys, "path", list(sys.path))


def manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "platform_contract", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": NOWHERE},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_writes_the_models_as_the_contract_format(tmp_path):
    output = tmp_path / "platform_models.json"

    call_command("platform_contract", *FIXTURE_ARGS, "--output", str(output))

    text = output.read_text()
    assert json.loads(text) == EXPECTED
    assert text == json.dumps(EXPECTED, sort_keys=True, indent=1) + "\n"
    platform_contract.load(output)  # the loader reads what the command writes


def test_check_exits_0_when_equal_and_1_naming_the_changed_column(tmp_path):
    output = tmp_path / "platform_models.json"
    written = manage(*FIXTURE_ARGS, "--output", str(output))
    assert written.returncode == 0, written.stderr
    assert json.loads(output.read_text()) == EXPECTED

    equal = manage(*FIXTURE_ARGS, "--output", str(output), "--check")
    assert equal.returncode == 0, equal.stderr
    assert "matches" in equal.stdout

    changed = json.loads(output.read_text())
    changed["workspaces"]["columns"][3]["type"] = "VARCHAR(100)"  # slug
    output.write_text(platform_contract.dumps(changed))
    differs = manage(*FIXTURE_ARGS, "--output", str(output), "--check")

    assert differs.returncode == 1
    assert '~ column workspaces.slug: type "VARCHAR(100)" → "VARCHAR"' in differs.stderr
    assert "accounts" not in differs.stderr and "drafts" not in differs.stderr
    assert "Traceback" not in differs.stderr
    assert json.loads(output.read_text()) == changed  # --check writes nothing


def test_check_names_tables_and_columns_added_removed_and_changed(tmp_path):
    contract = json.loads(json.dumps(EXPECTED))
    del contract["drafts"]
    contract["gone"] = {"columns": [{"name": "id", "type": "INTEGER", "nullable": False}]}
    accounts = contract["accounts"]["columns"]
    del accounts[1]  # email
    accounts.append({"name": "legacy", "type": "TEXT", "nullable": True})
    accounts[1]["default"] = {"value": 0}  # role: was {"value": "member"}
    contract["workspaces"]["columns"][5]["default"] = {"value": 1}  # is_active: was true
    contract["workspaces"].pop("unique_together")
    output = tmp_path / "platform_models.json"
    output.write_text(platform_contract.dumps(contract))

    listed = io.StringIO()
    with pytest.raises(CommandError, match=r"differs .* in 7 place") as raised:
        call_command(
            "platform_contract", *FIXTURE_ARGS, "--output", str(output), "--check", stderr=listed
        )

    assert raised.value.returncode == 1
    assert listed.getvalue().splitlines() == [
        "  + column accounts.email",
        "  - column accounts.legacy",
        '  ~ column accounts.role: default {"value": 0} → {"value": "member"}',
        "  + table drafts",
        "  - table gone",
        '  ~ table workspaces: unique_together absent → [["name", "owner_id"]]',
        '  ~ column workspaces.is_active: default {"value": 1} → {"value": true}',
    ]


def test_an_unimportable_module_is_one_paragraph_and_exit_2():
    result = manage("--source", str(FIXTURE_SOURCE), "--metadata", "backend.db.database:Base")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Cannot import backend.db.database: there is no module backend" in result.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--metadata", "platform_fixture.db:Bsae"], "has no attribute 'Bsae'"),
        (["--metadata", "platform_fixture.db:declarative_base"], "not a SQLAlchemy MetaData"),
        (["--metadata", "platform_fixture.db"], "is not MODULE:ATTRIBUTE"),
        (["--metadata", "platform_fixture.empty:Base"], "holds no tables: import the modules"),
        (
            ["--metadata", "platform_fixture.broken:Base"],
            "Importing platform_fixture.broken from .* raised RuntimeError: DATABASE_URL is not",
        ),
        (
            ["--metadata", "platform_fixture.db:Base", "--models", "platform_fixture.nope"],
            "Cannot import platform_fixture.nope",
        ),
    ],
)
def test_operator_errors_exit_2(arguments, message):
    with pytest.raises(CommandError, match=message) as raised:
        call_command("platform_contract", "--source", str(FIXTURE_SOURCE), *arguments)
    assert raised.value.returncode == 2


def test_a_missing_source_folder_exits_2(tmp_path):
    with pytest.raises(CommandError, match="is not a directory") as raised:
        call_command(
            "platform_contract", "--source", str(tmp_path / "nope"), "--metadata", "a.b:Base"
        )
    assert raised.value.returncode == 2


def test_without_sqlalchemy_it_says_where_to_run(monkeypatch):
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)  # import sqlalchemy → ImportError

    with pytest.raises(CommandError, match=r"platform-schema\[platform\]") as raised:
        call_command("platform_contract", *FIXTURE_ARGS, "--check")
    assert raised.value.returncode == 2


def test_a_metadata_object_is_accepted_with_the_mapped_classes(tmp_path):
    output = tmp_path / "platform_models.json"
    arguments = ["--source", str(FIXTURE_SOURCE), "--models", "platform_fixture.models"]

    call_command(
        "platform_contract",
        *arguments,
        "--metadata",
        "platform_fixture.db:Base.metadata",
        "--output",
        str(output),
    )

    assert json.loads(output.read_text()) == EXPECTED


# --------------------------------------------------------------------------- the real contract


def _as_data(column: platform_contract.PlatformColumn) -> dict:
    """A loaded column back in the file's form, every key the loader understood."""
    data = {"name": column.name, "type": column.type, "nullable": column.nullable}
    for flag in ("primary_key", "unique", "index", "python_uuid_objects"):
        if getattr(column, flag):
            data[flag] = True
    if column.timezone_aware is not None:
        data["timezone_aware"] = column.timezone_aware
    if column.default is not None:
        data["default"] = {column.default.kind: column.default.value}
    if column.server_default is not None:
        data["server_default"] = column.server_default
    if column.foreign_keys:
        data["foreign_keys"] = [
            {"references": fk.target} | ({"on_delete": fk.on_delete} if fk.on_delete else {})
            for fk in column.foreign_keys
        ]
    return data


def test_every_key_of_the_real_contract_round_trips_through_load():
    path = platform_contract.default_path()
    data = json.loads(path.read_text())
    contract = platform_contract.load(path)

    rebuilt = {}
    for table in contract:
        spec = {"columns": [_as_data(column) for column in table.columns]}
        if table.classes:
            spec["classes"] = list(table.classes)
        if table.unique_together:
            spec["unique_together"] = [list(group) for group in table.unique_together]
        rebuilt[table.name] = spec
    assert rebuilt == data
    assert platform_contract.dumps(rebuilt) == path.read_text()  # the command's own format


def test_the_derivation_reproduces_the_real_contract_from_tables_built_from_it():
    """The suite's SQLAlchemy tables (``tests/platform_metadata.py``, built from the contract)
    described by the command give the contract back, but for what that module changes on
    purpose: the enum's label, and the references PostgreSQL cannot build."""
    from tests.platform_metadata import platform_metadata

    expected = json.loads(platform_contract.default_path().read_text())
    for table in expected.values():
        table.pop("classes", None)  # built as plain Tables: no mapped classes

    assert platform_contract.diff(expected, describe(platform_metadata())) == [
        '~ column admin_users.role: default {"value": "admin"} → {"value": "ADMIN"}',
        *(
            f"~ column {table}.organization_id: foreign_keys "
            '[{"on_delete": "CASCADE", "references": "organizations.id"}] → absent'
            for table in ("content_drafts", "content_schedules", "social_audit")
        ),
        '~ column social_audit.user_id: python_uuid_objects true → absent; type "UUID" → '
        '"INTEGER"',
        "~ column social_connections.organization_id: foreign_keys "
        '[{"on_delete": "CASCADE", "references": "organizations.id"}] → absent',
    ]
