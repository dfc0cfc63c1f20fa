"""``lint_migrations``: refuse migrations that would lock or rewrite a live table.

Exit codes: 0 every migration passes; 1 findings (or reviewed exceptions that no longer
match); 2 cannot run (squawk missing, server unreachable, a migration that cannot be
printed); 3 usage error (unknown app, malformed exceptions file); and the other
codes of ``database.errors`` (6 a read-only server: it builds a scratch database).
"""

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader

from database import errors
from database.integrity.declarations import project_app_labels
from database.online import lint
from database.schema import scratch

FINDINGS = 1
USAGE = 3
PRODUCTION_SCHEMA = settings.CONTRACT_DIR / "legacy" / "production_schema.sql"


class Command(errors.ReportsFailures, BaseCommand):
    help = (
        "Lint the migrations of the project's apps (or of the apps named) for operations that "
        "would lock or rewrite an existing table: their SQL as sqlmigrate prints it, checked "
        "by squawk, and their operation types. Prints 'app.migration: operation: rule: why' "
        "per finding. Exit 0 clean, 1 findings, 2 cannot run, 3 usage error."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "app_labels", nargs="*", help="Apps to lint (default: every app of the project)."
        )
        parser.add_argument(
            "--exceptions",
            default=str(lint.EXCEPTIONS_FILE),
            help="The reviewed exceptions, TOML (default: %(default)s).",
        )

    def handle(self, *args, **options):
        labels = self._labels(options["app_labels"])
        try:
            exceptions = lint.load_exceptions(Path(options["exceptions"]))
        except lint.LintError as error:
            raise CommandError(str(error), returncode=USAGE) from None
        printed = self._print_migrations(labels)
        try:
            findings = lint.lint(printed)
        except lint.LintError as error:
            raise CommandError(str(error), returncode=errors.CANNOT_RUN) from None
        linted = {migration.key for migration in printed}
        left, stale = lint.apply_exceptions(findings, exceptions, linted)
        for finding in left:
            self.stdout.write(self.style.ERROR(str(finding)))
        for exception in stale:
            self.stdout.write(
                self.style.WARNING(
                    f"{exception.migration}: {exception.operation}: {exception.rule}: "
                    "a reviewed exception that matches no finding any more: remove it, or "
                    "review the migration again"
                )
            )
        excused = len(findings) - len(left)
        summary = f"{len(printed)} migration(s) linted, {excused} finding(s) excused by review"
        if left or stale:
            raise CommandError(
                f"{summary}; {len(left)} unsafe operation(s), {len(stale)} stale exception(s).",
                returncode=FINDINGS,
            )
        self.stdout.write(self.style.SUCCESS(f"{summary}; no unsafe operation."))

    def _labels(self, named: list[str]) -> set[str]:
        unknown = [label for label in named if label not in apps.app_configs]
        if unknown:
            raise CommandError(
                f"No installed app is called {', '.join(unknown)}. Name apps by their label "
                f"(for example {', '.join(sorted(project_app_labels())[:3])}), or none to "
                "lint every app of the project.",
                returncode=USAGE,
            )
        return set(named) or project_app_labels()

    def _print_migrations(self, labels: set[str]) -> list[lint.PrintedMigration]:
        """Print every migration of ``labels`` on a scratch database holding production's
        schema (an operation that archives every column of a table reads them there)."""
        server = scratch.server_settings()
        with scratch.scratch_database("migration_lint") as alias:
            name = connections[alias].settings_dict["NAME"]
            scratch.load_sql_file(server, name, PRODUCTION_SCHEMA)
            loader = MigrationLoader(connections[alias])
            plan: list[tuple[str, str]] = []
            for leaf in sorted(loader.graph.leaf_nodes()):
                plan += [
                    key
                    for key in loader.graph.forwards_plan(leaf)
                    if key[0] in labels and key not in plan
                ]
            return [self._print(loader, key, connections[alias]) for key in plan]

    @staticmethod
    def _print(loader, key, connection) -> lint.PrintedMigration:
        try:
            return lint.print_migration(loader, key, connection)
        except DatabaseError as error:
            raise CommandError(
                f"{key[0]}.{key[1]} cannot be printed as sqlmigrate would: {error}. The lint "
                "prints every migration on a scratch copy of production's schema; an "
                "operation that reads a table production does not have needs its columns "
                "named.",
                returncode=errors.CANNOT_RUN,
            ) from None
