"""``sample_reports``: write the sample schema analysis reports of docs/ (``--check``: compare).

Exit codes: 0 written, or (``--check``) up to date; 1 (``--check``) a report is stale, each
named; 2 cannot run (the server cannot be used), and the other codes of
``database.errors``.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from database import errors
from database.schema import samples


class Command(errors.ReportsFailures, BaseCommand):
    help = (
        "Build the sample production database (contract/legacy) before and after adoption on "
        "scratch databases of the server of --database, and write check_integrity's markdown "
        "report of each to docs/ (with --check, only compare)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit 1, naming each stale report, if a file differs from a fresh build; "
            "write nothing.",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The server to build the scratch databases on (default: %(default)s).",
        )

    def handle(self, *args, check: bool, database: str, **options):
        built = samples.build(database)
        if check:
            stale = samples.stale(built)
            for line in stale:
                self.stderr.write(f"  - {line}")
            if stale:
                raise CommandError(
                    f"{len(stale)} sample report(s) stale: run '{samples.COMMAND}'.",
                    returncode=1,
                )
            self.stdout.write(self.style.SUCCESS("The sample reports match a fresh build."))
            return
        for path, text in built.items():
            path.write_text(text)
            self.stdout.write(f"Wrote {path.relative_to(samples.DOCS_DIR.parent)}")
