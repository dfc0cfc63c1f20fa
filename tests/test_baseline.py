"""The initial migrations reproduce the production DDL, and the snapshot says so."""

import re
import shutil
import subprocess

import pytest
from django.db import connections

from database.schema import baseline
from database.schema.catalog import diff_catalogs, read_catalog
from database.schema.scratch import scratch_database
from tests.conftest import LEGACY_DIR


def catalog_of_database(database, tables=None):
    with database.connect() as conn, conn.transaction(), conn.cursor() as cursor:
        return read_catalog(cursor, tables)


@pytest.fixture(scope="module")
def built_baseline(django_db_blocker):
    """The catalog of a fresh database holding only the initial migrations."""
    with django_db_blocker.unblock(), scratch_database("built_baseline", keep=True) as alias:
        connection = connections[alias]
        baseline.build_baseline(connection)
        name = connection.settings_dict["NAME"]
        tables = baseline.public_tables(connection) - baseline.DJANGO_BOOKKEEPING
        catalog = baseline.catalog_of(connection, tables)
    yield name, catalog
    from database.schema import scratch

    scratch.drop_database(scratch.server_settings(), name)


@pytest.fixture
def contract_schema_db(make_database, server):
    from database.schema import scratch

    database = make_database("contract")
    scratch.load_sql_file(server, database.name, LEGACY_DIR / "production_schema.sql")
    return database


def test_initial_migrations_create_exactly_the_sixteen_production_tables(built_baseline):
    _, catalog = built_baseline
    assert sorted(catalog["tables"]) == sorted(baseline.load_snapshot()["tables"])
    assert len(catalog["tables"]) == 16


def test_initial_migrations_match_the_production_catalog(built_baseline, contract_schema_db):
    _, built = built_baseline
    production = catalog_of_database(contract_schema_db)

    assert diff_catalogs(production, built) == []
    # The comparison is not vacuous: it sees columns, keys, indexes, sequences and the enum.
    users = production["tables"]["users"]
    assert len(users["columns"]) == 26
    assert "users_registration_key_id_fkey" in users["constraints"]
    assert "ix_users_email" in users["indexes"]
    assert "users_id_seq" in users["sequences"]
    assert production["enums"] == {"adminrole": ["SUPER_ADMIN", "ADMIN", "MODERATOR"]}


def test_checked_in_snapshot_matches_a_fresh_build(built_baseline):
    _, built = built_baseline
    assert diff_catalogs(baseline.load_snapshot(), built) == []


def _normalised_dump(database_url: str, pg_dump: str) -> str:
    dump = subprocess.run(
        [
            pg_dump,
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "-T",
            "django_migrations",
            "-T",
            "django_migrations_id_seq",
            database_url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = [
        line
        for line in dump.splitlines()
        if line.strip() and not line.startswith(("--", "\\restrict", "\\unrestrict", "SET "))
    ]
    return "\n".join(lines)


def _pg_dump_binary() -> str | None:
    import pgserver

    bundled = __import__("pathlib").Path(pgserver.__file__).parent / "pginstall/bin/pg_dump"
    return str(bundled) if bundled.exists() else shutil.which("pg_dump")


def test_pg_dump_of_the_baseline_equals_pg_dump_of_production(
    built_baseline, contract_schema_db, server
):
    from database.schema.scratch import database_url

    pg_dump = _pg_dump_binary()
    built_name, _ = built_baseline
    built = _normalised_dump(database_url(server, built_name), pg_dump)
    production = _normalised_dump(contract_schema_db.url, pg_dump)
    assert re.search(r"CREATE TABLE public\.users", built)
    assert built == production
