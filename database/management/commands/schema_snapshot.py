"""Write the catalog of the fully migrated schema, which ``check_integrity`` compares with."""

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from database.integrity import schema
from database.management.snapshot import SnapshotCommand
from database.schema.baseline import catalog_of
from database.schema.catalog import Catalog
from database.schema.scratch import scratch_database


class Command(SnapshotCommand):
    label = "schema"
    snapshot_path = schema.SNAPSHOT_PATH
    help = (
        "Apply every migration to a scratch database and write the catalog of its public "
        f"schema to {schema.SNAPSHOT_PATH.name} (with --check, only compare)."
    )

    def build(self) -> tuple[Catalog, Catalog]:
        built, expected = build()
        return built, expected or {"tables": {}, "enums": {}}

    def write(self, built: Catalog, expected: Catalog) -> None:
        if schema.SNAPSHOT_PATH.exists() and expected != schema.load_snapshot():
            # Tables of optional extensions (pgvector's, D2) were skipped on this server.
            raise CommandError(
                "This server lacks types the snapshot's optional tables need; build the "
                "snapshot on a server that offers their extensions (the embedded one does)."
            )
        schema.write_snapshot(built)


def build() -> tuple[Catalog, Catalog | None]:
    """The catalog of every public table after all migrations, on an empty database; and the
    checked-in snapshot less the tables whose types that database lacks (None if none yet)."""
    with scratch_database("schema") as alias:
        connection = connections[alias]
        call_command("migrate", database=alias, interactive=False, verbosity=0)
        expected = None
        if schema.SNAPSHOT_PATH.exists():
            with connection.cursor() as cursor:
                expected = schema.available_part(schema.load_snapshot(), cursor)
        return catalog_of(connection), expected
