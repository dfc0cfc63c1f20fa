from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from database import baseline
from database.catalog import diff_catalogs
from database.scratch import scratch_database


class Command(BaseCommand):
    help = (
        "Build the initial migrations in a scratch database and write their catalog to "
        f"{baseline.SNAPSHOT_PATH.name} (with --check, only compare)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit 1 if the checked-in snapshot differs from a fresh build; write nothing.",
        )

    def handle(self, *args, check: bool, **options):
        with scratch_database("baseline") as alias:
            connection = connections[alias]
            baseline.build_baseline(connection)
            built = baseline.catalog_of(connection, self.legacy_tables(connection))
        if not check:
            baseline.write_snapshot(built)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Wrote {len(built['tables'])} tables to {baseline.SNAPSHOT_PATH}."
                )
            )
            return
        differences = diff_catalogs(baseline.load_snapshot(), built)
        for difference in differences:
            self.stderr.write(f"  - {difference}")
        if differences:
            raise CommandError("The baseline snapshot is out of date: run baseline_snapshot.")
        self.stdout.write(self.style.SUCCESS("The baseline snapshot matches a fresh build."))

    @staticmethod
    def legacy_tables(connection) -> set[str]:
        return baseline.public_tables(connection) - baseline.DJANGO_BOOKKEEPING
