"""Run the checks against one database: each in its own read-only transaction."""

from collections.abc import Callable, Sequence

from django.db import connections, transaction

from database.integrity import declarations, schema
from database.integrity.checks import CHECKS, Context
from database.integrity.findings import Report
from database.integrity.scan import Scan, estimated_rows, public_columns

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
) -> Report:
    """Every selected check against the database of ``alias``; writes nothing.

    Each check runs in its own transaction (``SET TRANSACTION READ ONLY``), so no check
    holds a snapshot for the length of the whole run, and one statement that times out
    costs only the object it was reading.
    """
    connection = connections[alias]
    names = selected_checks(only, skip)
    timeout_ms = max(1, round(timeout * 1000))
    report_progress = progress or (lambda text: None)

    with transaction.atomic(using=alias):
        scan = Scan(connection, "context", timeout_ms, report_progress)
        scan.begin()
        version = scan.rows("SHOW server_version")[0][0]
        tables = estimated_rows(scan)
        state = schema.migration_state(connection, set(tables))
        with connection.cursor() as cursor:
            expected = schema.expected_catalog(state, cursor)
        context = Context(
            state=state,
            columns=public_columns(scan),
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
