"""``check_integrity``: check a live database's schema and data, read-only.

Exit codes: 0 no finding at or above ``--fail-on``; 1 findings; 2 cannot run (server
unreachable, authentication, missing database, missing permission); 3 usage error; the
other codes of ``database.errors`` (8 a recovery conflict on a standby, 9 the catalog could not
be read in time).
"""

import argparse
import math
import os

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError

from database import errors
from database.integrity import render
from database.integrity.checks import CHECKS
from database.integrity.findings import Severity
from database.integrity.runner import DEFAULT_TIMEOUT, run_checks, selected_checks

FINDINGS = 1
USAGE = errors.USAGE

CLEAR_LINE = "\r\033[K"  # back to the line's start, erase it
DIM = "\033[2m"
RESET = "\033[0m"


class Command(errors.ReportsFailures, BaseCommand):
    help = (
        "Check the schema and data of a database, read-only: orphans, unvalidated "
        "constraints, index problems, sequences, required and unique values, unapplied "
        "migrations and drift from the migrations. Exit 0 healthy, 1 findings, 2 cannot run, "
        "3 usage error."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            choices=["text", "json", "markdown"],
            default="text",
            help="text (a table), json (for CI) or markdown (a schema analysis report).",
        )
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="Database alias to check, e.g. a read replica (default: %(default)s).",
        )
        parser.add_argument(
            "--only",
            action="append",
            choices=list(CHECKS),
            default=[],
            metavar="CHECK",
            help=f"Run only this check (repeatable). Checks: {', '.join(CHECKS)}.",
        )
        parser.add_argument(
            "--skip",
            action="append",
            choices=list(CHECKS),
            default=[],
            metavar="CHECK",
            help="Do not run this check (repeatable).",
        )
        parser.add_argument(
            "--fail-on",
            choices=[severity.label for severity in sorted(Severity, reverse=True)],
            default=Severity.WARNING.label,
            help="Exit 1 when a finding is at least this severe (default: %(default)s).",
        )
        parser.add_argument(
            "--statement-timeout",
            type=_positive_seconds,
            default=DEFAULT_TIMEOUT,
            metavar="SECONDS",
            help="Cancel any one statement after this long; its object is reported as not "
            "checked (default: %(default)s).",
        )

    def writes(self, options) -> bool:
        return False

    def handle(self, *args, **options):
        alias = options["database"]
        fail_on = Severity.from_label(options["fail_on"])
        self._check_selection(options["only"], options["skip"])
        self._dim = not options.get("no_color") and "NO_COLOR" not in os.environ
        try:
            report = run_checks(
                alias,
                only=options["only"],
                skip=options["skip"],
                timeout=options["statement_timeout"],
                progress=self.progress if self.stderr.isatty() else None,
                count_rows=options["format"] == "markdown",
            )
        except DatabaseError as error:
            if isinstance(error.__cause__, psycopg.errors.QueryCanceled):
                raise CommandError(
                    "The catalog could not be read within --statement-timeout "
                    f"({options['statement_timeout']:g}s): {error}. Nothing was checked; "
                    "raise the timeout, or run when the server is less busy.",
                    returncode=errors.TIMED_OUT,
                ) from None
            raise
        finally:
            self.progress(None)
        self.write(report, options["format"], fail_on)
        failing = report.at_or_above(fail_on)
        if failing:
            raise CommandError(
                f"{len(failing)} finding(s) at or above '{fail_on.label}'.",
                returncode=FINDINGS,
            )

    @staticmethod
    def _check_selection(only: list[str], skip: list[str]) -> None:
        """Contradictory ``--only``/``--skip``, or a selection that leaves nothing to run, is
        a usage error (exit 3), not a clean run of no check."""
        both = [name for name in CHECKS if name in only and name in skip]
        if both:
            named = ", ".join(both)
            raise CommandError(
                f"--only and --skip both name {named}: a check cannot be run and left out at "
                "once. Give each check to one of them (--only runs just the checks it names, "
                "--skip runs all the others).",
                returncode=USAGE,
            )
        if not selected_checks(only, skip):
            raise CommandError(
                "--skip leaves out every check, so nothing would be checked. Drop a --skip, "
                "or use --only to name the checks to run.",
                returncode=USAGE,
            )

    def write(self, report, output_format: str, fail_on: Severity) -> None:
        if output_format == "json":
            self.stdout.write(render.as_json(report, fail_on))
        elif output_format == "markdown":
            self.stdout.write(render.as_markdown(report, fail_on), ending="")
        else:
            styles = {
                Severity.ERROR: self.style.ERROR,
                Severity.WARNING: self.style.WARNING,
                Severity.INFO: self.style.NOTICE,
            }
            for line in render.as_text(report, fail_on, styles):
                self.stdout.write(line)
            summary = render.summary_line(report, fail_on)
            healthy = not report.at_or_above(fail_on)
            self.stdout.write(self.style.SUCCESS(summary) if healthy else summary)

    _progress_shown = False
    _dim = True

    def progress(self, text: str | None) -> None:
        """One self-overwriting status line on stderr, dim (unlike findings), and only on a
        terminal; ``None`` clears it. Never styled as an error: it is not one."""
        if not self.stderr.isatty():
            return
        if text is None:
            if self._progress_shown:
                self.stderr.write(CLEAR_LINE, style_func=_unstyled, ending="")
            return
        self._progress_shown = True
        line = f"{DIM}{text[:120]}{RESET}" if self._dim else text[:120]
        self.stderr.write(f"{CLEAR_LINE}{line}", style_func=_unstyled, ending="")
        self.stderr.flush()


def _unstyled(text: str) -> str:
    """Django styles everything written to a terminal's stderr as an error; progress is not."""
    return text


def _positive_seconds(text: str) -> float:

    try:
        value = float(text)
    except ValueError:
        value = 0
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return value
