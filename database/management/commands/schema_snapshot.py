"""Write the catalog of the fully migrated schema, which ``check_integrity`` compares with."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from database.baseline import catalog_of
from database.catalog import diff_catalogs
from database.integrity import schema
from database.scratch import scratch_database


class Command(BaseCommand):
    help = (
        "Apply every migration to a scratch database and write the catalog of its public "
        f"schema to {schema.SNAPSHOT_PATH.name} (with --check, only compare)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit 1 if the checked-in snapshot differs from a fresh build; write nothing.",
        )

    def handle(self, *args, check: bool, **options):
        built = build()
        if not check:
            schema.write_snapshot(built)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Wrote {len(built['tables'])} tables to {schema.SNAPSHOT_PATH}."
                )
            )
            return
        differences = diff_catalogs(schema.load_snapshot(), built)
        for difference in differences:
            self.stderr.write(f"  - {difference}")
        if differences:
            raise CommandError(
                "The schema snapshot is out of date: run 'python manage.py schema_snapshot'."
            )
        self.stdout.write(self.style.SUCCESS("The schema snapshot matches a fresh build."))


def build() -> dict:
    """The catalog of every public table after all migrations, on an empty database."""
    with scratch_database("schema") as alias:
        call_command("migrate", database=alias, interactive=False, verbosity=0)
        return catalog_of(connections[alias])
