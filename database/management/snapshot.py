"""The shared shape of ``baseline_snapshot`` and ``schema_snapshot``.

Each builds a schema in a scratch database, reads its catalog, and either writes it as the
checked-in snapshot or, with ``--check``, only compares the two and fails on a difference.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from database.errors import ReportsFailures
from database.schema.catalog import Catalog, diff_catalogs


class SnapshotCommand(ReportsFailures, BaseCommand):
    """Builds on a scratch database of the configured server: that server must accept
    writes."""

    label: str  # "baseline", "schema": for messages
    snapshot_path: Path

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit 1 if the checked-in snapshot differs from a fresh build; write nothing.",
        )

    def handle(self, *args, check: bool, **options):
        built, expected = self.build()
        if check:
            self.compare(expected, built)
            return
        self.write(built, expected)
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {len(built['tables'])} tables to {self.snapshot_path}.")
        )

    def build(self) -> tuple[Catalog, Catalog]:
        """The freshly built catalog, and the snapshot to compare it with."""
        raise NotImplementedError

    def write(self, built: Catalog, expected: Catalog) -> None:
        raise NotImplementedError

    def compare(self, expected: Catalog, built: Catalog) -> None:
        differences = diff_catalogs(expected, built)
        for difference in differences:
            self.stderr.write(f"  - {difference}")
        if differences:
            raise CommandError(
                f"The {self.label} snapshot is out of date: run "
                f"'python manage.py {self.label}_snapshot'."
            )
        self.stdout.write(self.style.SUCCESS(f"The {self.label} snapshot matches a fresh build."))
