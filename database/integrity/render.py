"""A report as a terminal table, as JSON for CI, or as a markdown schema analysis."""

import json
from collections.abc import Callable

from database.integrity.checks import (
    CHECKS,
    DATA_SECTION,
    FK_SECTION,
    PLATFORM_SECTION,
    SCHEMA_SECTION,
)
from database.integrity.findings import Finding, Report, Severity

Style = Callable[[str], str]


def as_json(report: Report, fail_on: Severity) -> str:
    return json.dumps(report.as_dict(fail_on), indent=2)


def as_text(report: Report, fail_on: Severity, styles: dict[Severity, Style]) -> list[str]:
    """Lines of a table: severity, check, where, count, message (and a sample)."""
    lines = [
        f"Database {report.database} (PostgreSQL {report.server_version}): "
        f"{len(report.checks)} check(s), {len(report.tables)} table(s). "
        f"Schema: {report.schema_basis}."
    ]
    if not report.findings:
        return lines
    rows = [
        (
            finding.severity,
            finding.check,
            finding.where,
            "" if finding.count is None else str(finding.count),
            finding.message + (f" e.g. {', '.join(finding.sample)}" if finding.sample else ""),
        )
        for finding in _ordered(report.findings)
    ]
    check_width = max(len("CHECK"), *(len(row[1]) for row in rows))
    where_width = min(48, max(len("WHERE"), *(len(row[2]) for row in rows)))
    count_width = max(len("COUNT"), *(len(row[3]) for row in rows))
    lines.append(
        f"{'SEVERITY':<8}  {'CHECK':<{check_width}}  {'WHERE':<{where_width}}  "
        f"{'COUNT':>{count_width}}  MESSAGE"
    )
    for severity, check, where, count, message in rows:
        label = styles[severity](f"{severity.label:<8}")
        lines.append(
            f"{label}  {check:<{check_width}}  {where:<{where_width}}  "
            f"{count:>{count_width}}  {message}"
        )
    return lines


def summary_line(report: Report, fail_on: Severity) -> str:
    counts = ", ".join(f"{number} {label}" for label, number in report.counts().items())
    failing = len(report.at_or_above(fail_on))
    return (
        f"{len(report.findings)} finding(s): {counts}; {failing} at or above "
        f"--fail-on {fail_on.label}."
    )


def _ordered(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity, in check order, then by table."""
    order = {name: number for number, name in enumerate(CHECKS)}
    return sorted(
        findings,
        key=lambda f: (-f.severity, order.get(f.check, len(order)), f.table or "", f.where),
    )


RISK = {Severity.ERROR: "High", Severity.WARNING: "Medium", Severity.INFO: "Low"}


def as_markdown(report: Report, fail_on: Severity) -> str:
    """A schema analysis report a person can hand to a colleague."""
    out = [
        f"# Schema analysis: {report.database}",
        "",
        f"- Database: `{report.database}`, PostgreSQL {report.server_version}",
        f"- Schema compared: {report.schema_basis}",
        f"- Checks run: {', '.join(f'`{name}`' for name in report.checks)}",
        f"- Findings: {summary_line(report, fail_on)}",
        "",
    ]
    out += _tables_section(report)
    sections = {SCHEMA_SECTION: [], FK_SECTION: [], DATA_SECTION: [], PLATFORM_SECTION: []}
    for finding in _ordered(report.findings):
        sections[CHECKS[finding.check].section].append(finding)
    for title, findings in sections.items():
        if title == PLATFORM_SECTION:
            continue
        out += [f"## {title}", ""]
        out += _finding_table(findings) if findings else ["None found.", ""]
    if "platform_models" in report.checks:
        out += _platform_section(sections[PLATFORM_SECTION])
    out += _risk_section(report)
    out += _actions_section(report)
    return "\n".join(out).rstrip() + "\n"


# The platform comparison's parts, as the seed report had them, by the finding's kind.
PLATFORM_PARTS = {
    "Missing tables": ("missing table",),
    "Missing columns": ("missing column",),
    "Type mismatches": ("key type", "type", "date-time"),
    "Lengths and nullability": ("length", "nullability", "unmapped column"),
}


def _platform_section(findings: list[Finding]) -> list[str]:
    """The database against the running platform's models (``platform_models``): what the
    platform maps and the database lacks or types otherwise, what each does to the running
    code, and the fixes as numbered items; deliberate differences last, with their decision."""
    out = [f"## {PLATFORM_SECTION}", ""]
    to_fix = [f for f in findings if f.severity > Severity.INFO]
    decided = [f for f in findings if f.severity == Severity.INFO]
    if not findings:
        return [*out, "The database serves every table and column the platform maps.", ""]
    for title, kinds in PLATFORM_PARTS.items():
        part = [f for f in to_fix if _kind(f) in kinds]
        out += [f"### {title} ({len(part)})", ""]
        out += _platform_table(part) if part else ["None.", ""]
    out += [f"### Deliberate differences ({len(decided)})", ""]
    out += _platform_table(decided) if decided else ["None.", ""]
    fixes: dict[str, list[Finding]] = {}
    for finding in to_fix:
        fixes.setdefault(finding.message.partition(" Fix: ")[2].rstrip("."), []).append(finding)
    if fixes:
        out += ["### What to do, in order", ""]
        for number, (fix, where) in enumerate(fixes.items(), start=1):
            places = ", ".join(f"`{f.where}`" for f in where)
            out.append(f"{number}. {fix[0].upper()}{fix[1:]}: {places}.")
        out.append("")
    return out


def _kind(finding: Finding) -> str:
    return finding.message.split(":", 1)[0]


def _platform_table(findings: list[Finding]) -> list[str]:
    out = ["| severity | where | what the platform meets |", "|---|---|---|"]
    for finding in findings:
        said = finding.message.split(": ", 1)[1].split(" Fix: ")[0].replace("|", "\\|")
        out.append(f"| {finding.severity.label} | `{finding.where}` | {said} |")
    return [*out, ""]


def _tables_section(report: Report) -> list[str]:
    expected = set(report.expected_tables)
    out = [f"## Tables found ({len(report.tables)})", ""]
    if report.tables:
        out += ["| table | estimated rows | expected |", "|---|---:|---|"]
        for name, rows in report.tables.items():
            known = "yes" if name in expected else ("not compared" if not expected else "no")
            out.append(f"| `{name}` | {'unknown' if rows < 0 else f'{rows:,}'} | {known} |")
        out.append("")
    missing = sorted(expected - set(report.tables))
    out += [f"## Missing tables ({len(missing)})", ""]
    if not expected:
        out += ["Not compared: the migrations that describe the schema are not applied.", ""]
    elif missing:
        out += [f"- `{name}`" for name in missing] + [""]
    else:
        out += ["None: every table the schema describes exists.", ""]
    return out


def _finding_table(findings: list[Finding]) -> list[str]:
    out = ["| severity | check | where | count | finding |", "|---|---|---|---:|---|"]
    for finding in findings:
        sample = f" Sample: {', '.join(finding.sample)}." if finding.sample else ""
        message = (finding.message + sample).replace("|", "\\|")
        count = "" if finding.count is None else str(finding.count)
        out.append(
            f"| {finding.severity.label} | `{finding.check}` | `{finding.where}` | {count} "
            f"| {message} |"
        )
    return [*out, ""]


def _risk_section(report: Report) -> list[str]:
    out = ["## Risk assessment", ""]
    for severity, risk in RISK.items():
        findings = [finding for finding in report.findings if finding.severity == severity]
        checks = sorted({finding.check for finding in findings}, key=list(CHECKS).index)
        detail = (
            "; ".join(
                f"`{name}` ({sum(1 for f in findings if f.check == name)})" for name in checks
            )
            or "nothing"
        )
        out.append(f"- **{risk}** ({severity.label}, {len(findings)}): {detail}.")
    return [*out, ""]


def _actions_section(report: Report) -> list[str]:
    out = ["## Action items", ""]
    number = 0
    for severity in sorted(Severity, reverse=True):
        for name, check in CHECKS.items():
            findings = [f for f in report.findings if f.check == name and f.severity == severity]
            if not findings:
                continue
            number += 1
            places = ", ".join(f"`{f.where}`" for f in findings[:8])
            more = f" and {len(findings) - 8} more" if len(findings) > 8 else ""
            out.append(
                f"{number}. **{RISK[severity]}** `{name}`: {check.action} Where: {places}{more}."
            )
    if not number:
        out.append("Nothing to do.")
    return [*out, ""]
