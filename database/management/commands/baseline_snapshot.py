from django.db import connections

from database.management.snapshot import SnapshotCommand
from database.schema import baseline
from database.schema.catalog import Catalog
from database.schema.scratch import scratch_database


class Command(SnapshotCommand):
    label = "baseline"
    snapshot_path = baseline.SNAPSHOT_PATH
    help = (
        "Build the initial migrations in a scratch database and write their catalog to "
        f"{baseline.SNAPSHOT_PATH.name} (with --check, only compare)."
    )

    def build(self) -> tuple[Catalog, Catalog]:
        with scratch_database("baseline") as alias:
            connection = connections[alias]
            baseline.build_baseline(connection)
            built = baseline.catalog_of(connection, self.legacy_tables(connection))
        return built, baseline.load_snapshot()

    def write(self, built: Catalog, expected: Catalog) -> None:
        baseline.write_snapshot(built)

    @staticmethod
    def legacy_tables(connection) -> set[str]:
        return baseline.public_tables(connection) - baseline.DJANGO_BOOKKEEPING
