"""The baseline: the 16 production tables as the initial migrations create them.

``production.json`` beside this module is the expected catalog of those tables, regenerated
by ``manage.py baseline_snapshot`` from a fresh build of the initial migrations and tested
against both that build and the production contract.
"""

import json
from pathlib import Path

from django.db import transaction
from django.db.migrations.executor import MigrationExecutor

from database.catalog import Catalog, Difference, diff_catalogs, read_catalog

SNAPSHOT_PATH = Path(__file__).resolve().parent / "baseline" / "production.json"
BASELINE_MIGRATIONS = [
    ("accounts", "0001_initial"),
    ("research", "0001_initial"),
    ("content", "0001_initial"),
    ("social", "0001_initial"),
]
# Tables Django itself may have created before an adoption (a first, failed attempt).
DJANGO_BOOKKEEPING = {"django_migrations"}


def load_snapshot() -> Catalog:
    return json.loads(SNAPSHOT_PATH.read_text())


def write_snapshot(catalog: Catalog) -> None:
    SNAPSHOT_PATH.write_text(json.dumps(catalog, indent=2, sort_keys=True) + "\n")


def catalog_of(connection, tables=None) -> Catalog:
    """Read the catalog through a Django connection, in a read-only transaction."""
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION READ ONLY")
        return read_catalog(cursor, tables)


def build_baseline(connection) -> None:
    """Apply only the initial migrations to an empty database."""
    executor = MigrationExecutor(connection)
    executor.migrate(BASELINE_MIGRATIONS)


def public_tables(connection) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public'")
        return {name for (name,) in cursor.fetchall()}


def unapplied_baseline(connection) -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    applied = executor.recorder.applied_migrations()
    return [key for key in BASELINE_MIGRATIONS if key not in applied]


def adoption_differences(connection) -> list[Difference]:
    """How the live database differs from the baseline it is about to be adopted as.

    Empty when there is nothing to adopt (no legacy table present) or the baseline is
    already recorded; otherwise every missing, extra or different object is listed.
    """
    if not unapplied_baseline(connection):
        return []
    expected = load_snapshot()
    present = public_tables(connection) - DJANGO_BOOKKEEPING
    if not present & set(expected["tables"]):
        return []
    found = catalog_of(connection, present)
    return diff_catalogs(expected, found)
