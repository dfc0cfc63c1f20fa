"""Identical copies of the grown database, one per measurement (CREATE DATABASE … TEMPLATE)."""

import time

from psycopg import sql

from database.schema import scratch


def clone(server: dict, template: str, name: str) -> float:
    """Copy ``template`` to a fresh ``name``; seconds taken.

    ``STRATEGY FILE_COPY`` copies the files after a checkpoint instead of writing every page
    to the WAL (the default since PostgreSQL 15), which is much faster for a big template.
    """
    scratch.drop_database(server, name)
    started = time.monotonic()
    with scratch.connect(server, "postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
    return time.monotonic() - started


def size(server: dict, name: str) -> int:
    """Bytes on disk."""
    with scratch.connect(server, "postgres") as conn:
        return conn.execute("SELECT pg_database_size(%s)", [name]).fetchone()[0]
