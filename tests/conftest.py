"""Fixtures shared by the whole suite: scratch databases shaped like production.

Every database here is real PostgreSQL on the server of the ``default`` connection (the
embedded server, or DATABASE_URL). Production-shaped databases are cloned from a template
built once per session from ``contract/legacy``.
"""

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest
from django.conf import settings
from django.db import connections
from psycopg import sql

from database.schema import scratch

LEGACY_DIR = settings.CONTRACT_DIR / "legacy"


@dataclass
class ScratchDatabase:
    name: str
    server: dict

    @property
    def url(self) -> str:
        return scratch.database_url(self.server, self.name)

    def connect(self, **kwargs) -> psycopg.Connection:
        return scratch.connect(self.server, self.name, **kwargs)

    def execute(self, statement: str, params=None) -> list[tuple]:
        with self.connect(autocommit=True) as conn, conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def manage(
        self, *args: str, timeout: int = 300, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        """Run ``manage.py`` against this database, as an operator would."""
        return run_manage(*args, database_url=self.url, timeout=timeout, env=env)

    def applied_migrations(self) -> list[tuple[str, str]]:
        exists = self.execute("SELECT to_regclass('public.django_migrations') IS NOT NULL")
        if not exists[0][0]:
            return []
        return self.execute("SELECT app, name FROM django_migrations ORDER BY id")


def run_manage(
    *args: str, database_url: str, timeout: int = 300, env: dict | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def server() -> dict:
    return scratch.server_settings()


def _create(server: dict, prefix: str, template: str | None = None) -> ScratchDatabase:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with scratch.connect(server, "postgres", autocommit=True) as conn:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(statement)
    return ScratchDatabase(name, server)


@pytest.fixture(scope="session")
def production_template(server) -> Iterator[str]:
    """A database built from the production contract and its sample data, to clone."""
    database = _create(server, "tpl_production")
    scratch.load_sql_file(server, database.name, LEGACY_DIR / "production_schema.sql")
    scratch.load_sql_file(server, database.name, LEGACY_DIR / "sample_data.sql")
    yield database.name
    scratch.drop_database(server, database.name)


def _databases(server: dict) -> Iterator:
    created: list[ScratchDatabase] = []

    def make(prefix: str = "scratch", template: str | None = None) -> ScratchDatabase:
        database = _create(server, prefix, template)
        created.append(database)
        return database

    yield make
    for database in created:
        scratch.drop_database(server, database.name)


@pytest.fixture
def make_database(server) -> Iterator:
    """Factory: an empty scratch database, or a clone of ``template``; dropped afterwards."""
    yield from _databases(server)


@pytest.fixture(scope="module")
def module_databases(server) -> Iterator:
    """The same factory, for databases that live as long as the test module."""
    yield from _databases(server)


@pytest.fixture
def production_db(make_database, production_template) -> ScratchDatabase:
    """A fresh copy of production (contract schema + sample data), not yet adopted."""
    return make_database("production", template=production_template)


@pytest.fixture(scope="session")
def adopted_template(server, production_template) -> Iterator[str]:
    """Production adopted with ``migrate --fake-initial`` and brought fully up to date."""
    database = _create(server, "tpl_adopted", template=production_template)
    result = database.manage("migrate", "--fake-initial", "--no-input")
    assert result.returncode == 0, result.stderr
    yield database.name
    scratch.drop_database(server, database.name)


@pytest.fixture
def adopted_alias(make_database, adopted_template, django_db_blocker) -> Iterator[str]:
    """A Django connection alias on a fresh copy of the adopted production database."""
    database = make_database("adopted", template=adopted_template)
    with (
        django_db_blocker.unblock(),
        scratch.database_alias(connections.settings["default"], database.name) as alias,
    ):
        yield alias


@pytest.fixture(scope="session")
def migrated_template(server) -> Iterator[str]:
    """An empty database brought up to date by ``manage.py migrate``, to clone."""
    database = _create(server, "tpl_migrated")
    result = database.manage("migrate", "--no-input")
    assert result.returncode == 0, result.stderr
    yield database.name
    scratch.drop_database(server, database.name)


@pytest.fixture
def fresh_db(make_database, migrated_template) -> ScratchDatabase:
    return make_database("fresh", template=migrated_template)


@pytest.fixture
def adopted_db(make_database, adopted_template) -> ScratchDatabase:
    return make_database("adopted", template=adopted_template)


@pytest.fixture
def alias_of(django_db_blocker) -> Iterator:
    """Factory: a Django connection alias on a scratch database (closed afterwards)."""
    with django_db_blocker.unblock(), contextlib.ExitStack() as stack:

        def register(database: ScratchDatabase) -> str:
            return stack.enter_context(
                scratch.database_alias(connections.settings["default"], database.name)
            )

        yield register
