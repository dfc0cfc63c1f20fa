"""Rehearse the adoption of production on a copy built from the contract.

Builds a database shaped like production (``contract/legacy``: schema and sample data) on
the server of ``--database``, adopts it with ``migrate --fake-initial``, and shows what
happened: which migrations were faked or applied, and that every row kept its values.
"""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from database import rowcheck, scratch

LEGACY_DIR = settings.CONTRACT_DIR / "legacy"


class Command(BaseCommand):
    help = __doc__.strip().splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument(
            "--name",
            default="production_rehearsal",
            help="Name of the database to (re)build; it is dropped first if it exists.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Server to use.")

    def handle(self, *args, name: str, database: str, **options):
        server = scratch.server_settings(database)
        if name == server["NAME"]:
            raise CommandError(f"Refusing to rebuild '{name}': it is the configured database.")
        self.build_production_copy(server, name)
        with scratch.connect(server, name) as conn:
            before = rowcheck.legacy_rows(conn)
        with scratch.database_alias(server, name) as alias:
            call_command("migrate", fake_initial=True, database=alias, interactive=False)
        with scratch.connect(server, name) as conn:
            after = rowcheck.legacy_rows(conn)
            archived = rowcheck.archived_rows(conn)
            applied = conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
        self.report(before, after, archived, applied, name)

    def build_production_copy(self, server: dict, name: str) -> None:
        self.stdout.write(f"Building '{name}' from {LEGACY_DIR.relative_to(settings.BASE_DIR)}")
        scratch.drop_database(server, name)
        scratch.create_database(server, name)
        for file in ("production_schema.sql", "sample_data.sql"):
            scratch.load_sql_file(server, name, LEGACY_DIR / file)
            self.stdout.write(f"  loaded {file}")

    def report(self, before, after, archived, applied: int, name: str) -> None:
        self.stdout.write("\nLegacy tables: rows before, rows after, rows archived")
        for table, rows in sorted(before.items()):
            kept = len(after.get(table, {}))
            saved = len(set(archived.get(table, {})) - set(after.get(table, {})))
            self.stdout.write(f"  {table:<30} {len(rows):>5} {kept:>5} {saved:>5}")
        problems = rowcheck.changed_rows(before, after, archived)
        for problem in problems[:20]:
            self.stderr.write(f"  - {problem}")
        if problems:
            raise CommandError(f"{len(problems)} value(s) changed during the adoption.")
        total = sum(map(len, before.values()))
        self.stdout.write(
            self.style.SUCCESS(
                f"\nAdopted '{name}': {applied} migrations recorded, {total} legacy rows "
                "compared, every value kept or archived."
            )
        )
