"""``check_integrity`` on the grown database against the raw queries for the same problems."""

import json
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.core.management import get_commands

from bench import raw_checks
from bench.process import Completed, manage

COMMAND = "check_integrity"
FINDINGS_EXIT = 1  # the command's exit code when it reports findings
# Checks with no SQL counterpart in raw_checks (``secrets`` decrypts, in Python, a sample of
# each encrypted column's values per key id: at most ``ENVELOPE_TRIALS`` (64) spread over
# their sealing order, and the last): the like-for-like run skips them.
WITHOUT_RAW_EQUIVALENT = ("secrets",)


def available() -> bool:
    return COMMAND in get_commands()


def checks_without_raw_equivalent() -> list[str]:
    """Those of ``WITHOUT_RAW_EQUIVALENT`` that the command has (it refuses unknown names)."""
    from database.integrity.checks import CHECKS

    return [name for name in WITHOUT_RAW_EQUIVALENT if name in CHECKS]


@dataclass
class ProjectIntegrity:
    run: Completed
    startup_seconds: float  # the same command with --help: Python, Django, settings, apps
    output_format: str  # "json", or "text" when the JSON output failed
    findings: dict[str, int] = field(default_factory=dict)  # check → findings (JSON only)
    problems: list[str] = field(default_factory=list)  # failed attempts, for the report


class IntegrityFailed(RuntimeError):
    pass


def project_integrity(database_url: str, skip: list[str] | tuple = ()) -> ProjectIntegrity:
    """Time ``check_integrity --format json`` (or the text format, if JSON fails).

    Exit code 1 means findings, but a crash exits 1 too: a run only counts when it printed
    no traceback and, for JSON, its output parses. ``skip``: checks to leave out.
    """
    problems: list[str] = []
    skipped = [arg for name in skip for arg in ("--skip", name)]
    for output_format in ("json", "text"):
        run = manage(COMMAND, "--format", output_format, *skipped, database_url=database_url)
        problem = _problem(run, output_format)
        if not problem:
            startup = manage(COMMAND, "--help", database_url=database_url).check()
            findings = _findings_per_check(run.stdout) if output_format == "json" else {}
            return ProjectIntegrity(run, startup.seconds, output_format, findings, problems)
        problems.append(f"--format {output_format}: {problem}")
    raise IntegrityFailed("; ".join(problems))


def _problem(run: Completed, output_format: str) -> str:
    if run.returncode not in (0, FINDINGS_EXIT) or "Traceback" in run.stderr:
        lines = (run.stderr or run.stdout).strip().splitlines()
        return f"exit {run.returncode}: {lines[-1][:300] if lines else 'no output'}"
    if output_format == "json":
        try:
            json.loads(run.stdout)
        except ValueError:
            return "the output is not JSON"
    return ""


def _findings_per_check(output: str) -> dict[str, int]:
    try:
        report: Any = json.loads(output)
    except ValueError:
        return {}
    findings = report.get("findings", []) if isinstance(report, dict) else []
    counts: dict[str, int] = {}
    for finding in findings:
        check = finding.get("check", "?") if isinstance(finding, dict) else "?"
        counts[check] = counts.get(check, 0) + 1
    return counts


@dataclass
class RawIntegrity:
    seconds: float
    per_check: dict[str, float]
    counts: dict[str, int]


def raw_integrity(conninfo: str) -> RawIntegrity:
    """Every raw check (declared foreign keys included), each timed, in one session."""
    per_check: dict[str, float] = {}
    counts: dict[str, int] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name, check in raw_checks.all_checks(conn, declared=True).items():
            started = time.perf_counter()
            counts[name] = check(conn)
            per_check[name] = time.perf_counter() - started
    return RawIntegrity(sum(per_check.values()), per_check, counts)
