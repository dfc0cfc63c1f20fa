"""Write the catalog of the fully migrated schema, which ``check_integrity`` compares with."""

import contextlib
import io

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from database.baseline import catalog_of
from database.catalog import Catalog, diff_catalogs
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
        built, expected = build()
        if not check:
            if expected is not None and expected != schema.load_snapshot():
                # Tables of optional extensions (pgvector's, D2) were skipped on this server.
                raise CommandError(
                    "This server lacks types the snapshot's optional tables need; build the "
                    "snapshot on a server that offers their extensions (the embedded one does)."
                )
            schema.write_snapshot(built)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Wrote {len(built['tables'])} tables to {schema.SNAPSHOT_PATH}."
                )
            )
            return
        differences = diff_catalogs(expected or {"tables": {}, "enums": {}}, built)
        for difference in differences:
            self.stderr.write(f"  - {difference}")
        if differences:
            raise CommandError(
                "The schema snapshot is out of date: run 'python manage.py schema_snapshot'."
            )
        self.stdout.write(self.style.SUCCESS("The schema snapshot matches a fresh build."))


def build() -> tuple[Catalog, Catalog | None]:
    """The catalog of every public table after all migrations, on an empty database; and the
    checked-in snapshot less the tables whose types that database lacks (None if none yet)."""
    with scratch_database("schema") as alias:
        connection = connections[alias]
        # Online operations report their batches on stdout; on an empty scratch database
        # that is noise.
        with contextlib.redirect_stdout(io.StringIO()):
            call_command("migrate", database=alias, interactive=False, verbosity=0)
        expected = None
        if schema.SNAPSHOT_PATH.exists():
            with connection.cursor() as cursor:
                expected = schema.available_part(schema.load_snapshot(), cursor)
        return catalog_of(connection), expected
