"""The baseline: the 16 production tables as the initial migrations create them.

``baseline.json`` beside this module is the expected catalog of those tables, regenerated
by ``manage.py baseline_snapshot`` from a fresh build of the initial migrations and tested
against both that build and the production contract.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import CreateModel

from database.schema.catalog import Catalog, Difference, diff_catalogs, read_catalog

SNAPSHOT_PATH = Path(__file__).resolve().parent / "baseline.json"
BASELINE_MIGRATIONS = [
    ("accounts", "0001_initial"),
    ("research", "0001_initial"),
    ("content", "0001_initial"),
    ("social", "0001_initial"),
]
# Tables migrate itself may have created before an adoption that was cut off: Django's
# record, the migrator's lease, and the keyring that the key check of the upgrade's
# encrypting migrations fills before the baseline is faked (database.secrets.keyring).
DJANGO_BOOKKEEPING = {"django_migrations", "django_migrate_lease", "encryption_keyring"}


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


def tables_created_by(migrations_: list[tuple[str, str]]) -> set[str]:
    """The legacy tables that the given baseline migrations create."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {
        operation.options["db_table"]
        for key in migrations_
        for operation in loader.get_migration(*key).operations
        if isinstance(operation, CreateModel)
    }


def restrict(catalog: Catalog, tables: set[str]) -> Catalog:
    """The part of a catalog about ``tables``, with the enum types their columns use."""
    kept = {name: shape for name, shape in catalog["tables"].items() if name in tables}
    used = {
        column["type"].removeprefix("public.")
        for shape in kept.values()
        for column in shape["columns"]
    }
    enums = {name: labels for name, labels in catalog["enums"].items() if name in used}
    return {"tables": kept, "enums": enums}


@dataclass(frozen=True)
class AdoptionCheck:
    """The comparison ``migrate`` makes before ``--fake-initial`` records anything.

    ``unapplied``: the baseline migrations not recorded yet; ``tables``: the legacy tables
    they create, compared with the baseline when any legacy table is present.
    """

    unapplied: list[tuple[str, str]]
    tables: set[str] = field(default_factory=set)
    compared: bool = False
    differences: list[Difference] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        """One line for the operator: what was compared, and the outcome."""
        if not self.unapplied:
            return (
                "Baseline check: the initial migrations are recorded already, there is "
                "nothing to adopt."
            )
        if not self.compared:
            return (
                "Baseline check: no legacy table in this database, the initial migrations "
                "will create them."
            )
        if self.differences:
            return (
                f"Baseline check failed: the database differs from the production baseline "
                f"in {len(self.differences)} place(s)."
            )
        return (
            f"Baseline check passed: the {len(self.tables)} legacy tables match the "
            "production baseline (columns and their order, types, nullability, defaults, "
            "indexes, constraints, sequences, triggers, enum types). Only the catalog was "
            "read."
        )


def adoption_check(connection) -> AdoptionCheck:
    """Compare the live database with the baseline it is about to be adopted as.

    Only the tables of baseline migrations not yet recorded are compared: those are what
    ``--fake-initial`` would fake. On a first adoption (nothing recorded) every table of the
    public schema must be a baseline table. Nothing is compared when no legacy table is
    present at all. Read-only.
    """
    unapplied = unapplied_baseline(connection)
    if not unapplied:
        return AdoptionCheck(unapplied)
    snapshot = load_snapshot()
    present = public_tables(connection) - DJANGO_BOOKKEEPING
    if not present & set(snapshot["tables"]):
        return AdoptionCheck(unapplied)
    to_fake = tables_created_by(unapplied)
    first_adoption = len(unapplied) == len(BASELINE_MIGRATIONS)
    compared = to_fake | (present - set(snapshot["tables"]) if first_adoption else set())
    expected = restrict(snapshot, to_fake)
    found = restrict(catalog_of(connection, present & compared), compared)
    return AdoptionCheck(unapplied, to_fake, True, diff_catalogs(expected, found))


def adoption_differences(connection) -> list[Difference]:
    """How the live database differs from the baseline (see ``adoption_check``)."""
    return adoption_check(connection).differences
