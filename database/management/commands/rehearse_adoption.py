"""Rehearse the adoption of production on a copy built from the contract.

Builds a database shaped like production (``contract/legacy``: schema and sample data) on
the server of ``--database``, adopts it with ``migrate --fake-initial``, and shows what
happened: which migrations were faked or applied, and that every row kept its values. It ends
with the commands to run next on that database.

Without DATABASE_URL the copy is the embedded server's own database (``make demo``), which
every later command run without DATABASE_URL uses.
"""

import re

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from config.embedded import DEMO_DATABASE
from database.errors import ReportsFailures
from database.schema import rowcheck, scratch

LEGACY_DIR = settings.CONTRACT_DIR / "legacy"

# What the README shows after the demo, printed at its end (tests/test_fresh_clone.py runs
# these lines as written).
NEXT_COMMANDS = [
    ("python manage.py check_integrity", "what is wrong with the schema and the data"),
    ("python manage.py check_integrity --format json", ""),
    ("python manage.py check_integrity --format markdown > report.md", "a report to hand on"),
    ("python manage.py showmigrations", "every migration applied"),
    ("python manage.py rotate_keys --dry-run", "what a key rotation would re-encrypt"),
    ("python manage.py createsuperuser", "a login for the admin"),
    ("python manage.py runserver", "then http://127.0.0.1:8000/admin/"),
]


class Command(ReportsFailures, BaseCommand):
    help = __doc__.strip().splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument(
            "--name",
            default=DEMO_DATABASE,
            help="Name of the database to (re)build; it is dropped first if it exists.",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Server to use.")

    def handle(self, *args, name: str, database: str, **options):
        server = scratch.server_settings(database)
        embedded = settings.EMBEDDED_DATABASE and database == DEFAULT_DB_ALIAS
        if name == server["NAME"] and not embedded:
            raise CommandError(f"Refusing to rebuild '{name}': it is the configured database.")
        self.build_production_copy(server, name)
        with scratch.connect(server, name) as conn:
            before = rowcheck.legacy_rows(conn)
        with scratch.database_alias(server, name) as alias:
            # migrate wraps what it is given: its own lines, and the batches' progress, go
            # to this command's stream as they are.
            call_command(
                "migrate",
                fake_initial=True,
                database=alias,
                interactive=False,
                stdout=self.stdout._out,
            )
        with scratch.connect(server, name) as conn:
            after = rowcheck.legacy_rows(conn)
            archived = rowcheck.archived_rows(conn)
            applied = conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
        self.report(before, after, archived, applied, name)
        self.next_steps(server, name, configured=name == server["NAME"])

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

    def next_steps(self, server: dict, name: str, configured: bool) -> None:
        steps = [(". .venv/bin/activate", "")]
        if configured:  # only ever the embedded server's database
            intro = (
                f"'{name}' is the embedded server's database: every command run here\n"
                "without DATABASE_URL uses it. Next:"
            )
        else:
            url = scratch.database_url(server, name)
            masked = re.sub(r"^(postgres(?:ql)?://[^:/@]*):[^@]*@", r"\1:…@", url)
            intro = f"'{name}' is not the configured database; to work on it:"
            password_note = "your password in place of …" if masked != url else ""
            steps += [
                (f"export DATABASE_URL='{masked}'", password_note),
                ("export DJANGO_DEVELOPMENT_KEYS=1", "the copy holds only fictional secrets"),
            ]
        steps += NEXT_COMMANDS
        if settings.EMBEDDED_DATABASE:
            steps.append(("make stop", "stop the embedded server"))
        width = max(len(command) for command, _ in NEXT_COMMANDS)
        self.stdout.write(f"\n{intro}\n\n")
        for command, note in steps:
            self.stdout.write(f"  {command:<{width}} # {note}" if note else f"  {command}")
