"""Optional pgvector tables: content_embeddings and memory_embeddings (TARGET_SCHEMA.md D2).

The app is always installed; its tables exist only where the server offers the ``vector``
extension. Its migrations wrap every database operation in
``embeddings.operations.RequiresVector``, which applies them only there and otherwise does
nothing to the database while Django still records the migration (PostgreSQL 15 from Debian,
and production today, have no pgvector). So ``migrate`` and the whole project work on either
kind of server, and both upgrade paths (adopted production, empty database) end with the same
schema on one server.

Code that iterates every installed model and touches its table (integrity checks, admin
pages, factories, schema snapshots) must leave these models alone where ``available()`` is
False; ``is_optional()`` says which models those are.

To add the tables to a database migrated before its server had pgvector (the migration was
recorded as a no-op): ``manage.py migrate embeddings zero`` then ``manage.py migrate``.
"""

EXTENSION = "vector"
TABLES = ("content_embeddings", "memory_embeddings")


def fetch_one(connection, statement: str, params: list) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()


def extension_available(connection) -> bool:
    """True if the server of ``connection`` can install pgvector (or it already is)."""
    (found,) = fetch_one(
        connection,
        "SELECT EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = %s)",
        [EXTENSION],
    )
    return found


def available(connection) -> bool:
    """True if the database of ``connection`` holds this app's tables.

    ``connection`` is a Django connection or a psycopg one. One catalog lookup, no lock.
    """
    (found,) = fetch_one(
        connection,
        "SELECT count(to_regclass(name)) = cardinality(%s::text[]) FROM unnest(%s::text[]) name",
        [[f"public.{table}" for table in TABLES]] * 2,
    )
    return found


def is_optional(model) -> bool:
    """True for the models whose tables exist only where ``available()`` says so."""
    return model._meta.app_label == "embeddings"
