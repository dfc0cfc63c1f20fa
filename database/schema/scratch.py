"""Scratch databases on the server of a Django connection, and loading SQL files into them.

Used to build the baseline from the migrations (``baseline_snapshot``) and to rehearse an
adoption on a copy shaped like production (``rehearse_adoption``), and by the tests.
"""

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.db import connections
from psycopg import sql


def server_settings(alias: str = "default") -> dict:
    return dict(connections.settings[alias])


def connection_params(settings: dict) -> dict:
    """psycopg connection parameters for ``settings``, as Django itself derives them."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    params = DatabaseWrapper(settings).get_connection_params()
    return {k: v for k, v in params.items() if k in _LIBPQ_KEYS and v not in (None, "")}


_LIBPQ_KEYS = {"dbname", "user", "password", "host", "port", "sslmode", "options"}


def connect(settings: dict, dbname: str | None = None, **kwargs) -> psycopg.Connection:
    """A plain psycopg connection to ``dbname`` on the server of ``settings``."""
    params = connection_params(settings)
    if dbname:
        params["dbname"] = dbname
    return psycopg.connect(**params, **kwargs)


def create_database(settings: dict, name: str) -> None:
    with connect(settings, "postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(settings: dict, name: str) -> None:
    with connect(settings, "postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def load_sql_file(settings: dict, dbname: str, path: Path) -> None:
    """Run a ``pg_dump``-style SQL file (no psql meta-commands) in one round trip."""
    with connect(settings, dbname, autocommit=True) as conn:
        conn.execute(path.read_text())


def database_url(settings: dict, dbname: str) -> str:
    """A DATABASE_URL for ``dbname`` on the server of ``settings``."""
    params = connection_params(settings)
    user = quote(params.get("user", ""))
    password = f":{quote(params['password'])}" if params.get("password") else ""
    host = str(params.get("host", ""))
    port = str(params.get("port", ""))
    if host.startswith("/"):
        query = f"?host={quote(host, safe='')}" + (f"&port={port}" if port else "")
        return f"postgres://{user}{password}@/{dbname}{query}"
    return f"postgres://{user}{password}@{host}{f':{port}' if port else ''}/{dbname}"


@contextlib.contextmanager
def database_alias(settings: dict, name: str) -> Iterator[str]:
    """Register database ``name`` on the server of ``settings`` as a Django connection alias
    for the block; its connection is closed and the alias forgotten afterwards."""
    alias = f"db_{name}"
    connections.settings[alias] = {**settings, "NAME": name}
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@contextlib.contextmanager
def scratch_database(prefix: str, alias: str = "default", keep: bool = False) -> Iterator[str]:
    """Create an empty database, register it as a Django connection alias, yield the alias."""
    settings = server_settings(alias)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    create_database(settings, name)
    try:
        with database_alias(settings, name) as scratch_alias:
            yield scratch_alias
    finally:
        if not keep:
            drop_database(settings, name)
