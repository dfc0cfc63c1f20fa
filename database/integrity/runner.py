"""Run the checks against one database: each in its own read-only transaction."""

from collections.abc import Callable, Sequence
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction

from database.integrity import declarations, platform, schema
from database.integrity.checks import CHECKS, Context
from database.integrity.findings import Report, TableRows
from database.integrity.scan import (
    Scan,
    archive_manifest,
    estimated_rows,
    row_figures,
)

DEFAULT_TIMEOUT = 60.0  # seconds per statement


def selected_checks(only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[str]:
    """Check names in run order: ``only`` those (all when empty), minus ``skip``."""
    unknown = sorted((set(only) | set(skip)) - set(CHECKS))
    if unknown:
        raise ValueError(f"Unknown check(s): {', '.join(unknown)}")
    return [name for name in CHECKS if (not only or name in only) and name not in skip]


def run_checks(
    alias: str,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[str], None] | None = None,
    count_rows: bool = False,
) -> Report:
    """Every selected check against the database of ``alias``; writes nothing.

    Each check runs in its own transaction (``SET TRANSACTION READ ONLY``), so no check
    holds a snapshot for the length of the whole run, and one statement that times out
    costs only the object it was reading. ``count_rows`` counts the rows of the tables the
    planner puts below ``scan.EXACT_BELOW`` (for the markdown report); otherwise the report
    holds planner estimates.
    """
    connection = connections[alias]
    names = selected_checks(only, skip)
    timeout_ms = max(1, round(timeout * 1000))
    report_progress = progress or (lambda text: None)

    with transaction.atomic(using=alias):
        scan = Scan(connection, "context", timeout_ms, report_progress)
        scan.begin()
        version = scan.rows("SHOW server_version")[0][0]
        estimates = estimated_rows(scan)
        if count_rows:
            tables = row_figures(scan, estimates)
        else:
            tables = {
                name: TableRows(rows if rows >= 0 else None, exact=False)
                for name, rows in estimates.items()
            }
        archive, archive_absent = archive_manifest(scan)
        state = schema.migration_state(connection, set(tables))
        with connection.cursor() as cursor:
            expected = schema.expected_catalog(state, cursor)
        context = Context(
            state=state,
            live=platform.read_live_schema(scan.rows(platform.LIVE_COLUMNS)),
            expected=expected,
            foreign=declarations.foreign_tables(),
        )
    report = Report(
        database=connection.settings_dict["NAME"],
        server_version=version,
        checks=names,
        tables=tables,
        expected_tables=sorted(expected[0]["tables"]) if expected else [],
        schema_basis=context.state.describe_basis(),
        platform_basis=_platform_basis(),
        archive=archive,
        archive_absent=archive_absent,
    )
    for number, name in enumerate(names, 1):

        def step(label: str, number=number, name=name) -> None:
            report_progress(f"[{number}/{len(names)}] {name}: {label}")

        step("starting")
        with transaction.atomic(using=alias):
            scan = Scan(connection, name, timeout_ms, step)
            scan.begin()
            found = list(CHECKS[name].run(scan, context))
        report.findings.extend(found + scan.findings)
    return report


def _platform_basis() -> str:
    if not settings.PLATFORM_CONTRACT:
        return "not compared: PLATFORM_CONTRACT names no contract"
    return f"compared with {Path(settings.PLATFORM_CONTRACT).name}"
