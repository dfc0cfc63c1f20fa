"""Rows whose values contradict each other (``conflicting_values``)."""

from collections.abc import Iterator

from database.integrity import declarations
from database.integrity.checks.registry import DATA_SECTION, Context, check
from database.integrity.findings import Finding, Severity
from database.integrity.scan import Scan, rows_finding


@check(
    "conflicting_values",
    DATA_SECTION,
    "Decide which of the values is right and correct the other.",
)
def conflicting_values(scan: Scan, context: Context) -> Iterator[Finding]:
    """Rows whose values disagree with each other (``conflicting_values``)."""
    for entry in declarations.declarations("conflicting_values"):
        if not context.has(entry.table, entry.column):
            continue
        rows = (
            entry.model._base_manager.using(scan.alias).filter(entry.rule).values("pk").distinct()
        )
        yield from rows_finding(
            scan,
            "conflicting_values",
            Severity.INFO,
            rows,
            entry,
            f"disagree on {entry.column}: {declarations.describe_condition(entry.rule)}",
        )
