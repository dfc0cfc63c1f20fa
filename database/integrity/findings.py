"""What a check reports: findings with a severity, and the report that collects them."""

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SAMPLE_SIZE = 5


class Severity(enum.IntEnum):
    """How urgent a finding is; ``--fail-on`` compares against this order."""

    INFO = 1  # worth knowing; nothing is broken (values that disagree, drift not compared)
    WARNING = 2  # will hurt later or needs a decision (unindexed keys, duplicates, NULLs)
    ERROR = 3  # wrong now (orphans, a sequence that hands out used ids, drift)

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> "Severity":
        return cls[label.upper()]


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    message: str
    table: str | None = None
    column: str | None = None
    object: str | None = None
    count: int | None = None
    sample: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Never unbounded output: a sample is at most SAMPLE_SIZE short strings.
        capped = tuple(str(value) for value in self.sample[:SAMPLE_SIZE])
        object.__setattr__(self, "sample", capped)

    @property
    def where(self) -> str:
        """``table.column`` (or ``table.object``, or the table alone) for people to read."""
        if not self.table:
            return self.object or ""
        detail = self.column or self.object
        return f"{self.table}.{detail}" if detail else self.table

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity.label,
            "table": self.table,
            "column": self.column,
            "object": self.object,
            "count": self.count,
            "message": self.message,
            "sample": list(self.sample),
        }


@dataclass(frozen=True)
class TableRows:
    """How many rows a table holds, as far as the report knows."""

    rows: int | None  # None: never analysed and not counted (the count hit the timeout)
    exact: bool  # counted with count(*), not the planner's estimate


@dataclass(frozen=True)
class ArchiveRun:
    """One row of ``archive.manifest``: one archiving run of a migration
    (database/online/archive.py)."""

    source: str
    selection: str
    archive_table: str
    migration: str
    row_count: int
    checksum: str
    archived_at: datetime | None
    restored_at: datetime | None


@dataclass
class Report:
    """Everything one run learned about one database."""

    database: str
    server_version: str
    checks: list[str]
    findings: list[Finding] = field(default_factory=list)
    # Context for the schema analysis report: tables found and expected, migration state.
    tables: dict[str, TableRows] = field(default_factory=dict)
    expected_tables: list[str] = field(default_factory=list)
    schema_basis: str = ""  # what drift compares with (when it runs)
    platform_basis: str = ""  # what platform_models compares with (when it runs)
    # The archive schema's manifest, oldest run first; None when there is none to read, and
    # archive_absent says why.
    archive: list[ArchiveRun] | None = None
    archive_absent: str = ""

    def at_or_above(self, severity: Severity) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity >= severity]

    def counts(self) -> dict[str, int]:
        return {
            severity.label: sum(1 for finding in self.findings if finding.severity == severity)
            for severity in sorted(Severity, reverse=True)
        }

    def summary(self, fail_on: Severity) -> dict[str, Any]:
        return {
            **self.counts(),
            "total": len(self.findings),
            "checks": self.checks,
            "fail_on": fail_on.label,
            "failed": bool(self.at_or_above(fail_on)),
        }

    def as_dict(self, fail_on: Severity) -> dict[str, Any]:
        return {
            "database": self.database,
            "server_version": self.server_version,
            "findings": [finding.as_dict() for finding in self.findings],
            "summary": self.summary(fail_on),
        }
