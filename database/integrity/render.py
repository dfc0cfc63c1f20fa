"""A report as a terminal table, as JSON for CI, or as a markdown schema analysis."""

import functools
import json
import re
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

from django.conf import settings

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
        f"Database {report.database} (PostgreSQL {report.server_version}), "
        f"{len(report.tables)} table(s): ran {checks_run(report)}.",
        f"Schema: {schema_compared(report)}. Platform's models: {platform_compared(report)}.",
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


def checks_run(report: Report, code: Callable[[str], str] = str) -> str:
    """Which checks ran: all of them, or the shorter of the lists of those run and not run."""
    ran = report.checks
    left_out = [name for name in CHECKS if name not in ran]
    if not left_out:
        return f"all {len(CHECKS)} checks"
    if len(ran) <= len(left_out):
        return f"{len(ran)} of {len(CHECKS)} checks ({', '.join(map(code, ran))})"
    return f"{len(ran)} of {len(CHECKS)} checks (not run: {', '.join(map(code, left_out))})"


def schema_compared(report: Report, code: Callable[[str], str] = str) -> str:
    """What the schema was compared with: only ``drift`` compares it."""
    if "drift" not in report.checks:
        return f"not compared ({code('drift')} did not run)"
    return report.schema_basis


def platform_compared(report: Report, code: Callable[[str], str] = str) -> str:
    if "platform_models" not in report.checks:
        return f"not compared ({code('platform_models')} did not run)"
    return report.platform_basis


def _code(text: str) -> str:
    return f"`{text}`"


def _ordered(findings: list[Finding]) -> list[Finding]:
    """Most severe first; within a severity, in check order, then by table."""
    order = {name: number for number, name in enumerate(CHECKS)}
    return sorted(
        findings,
        key=lambda f: (-f.severity, order.get(f.check, len(order)), f.table or "", f.where),
    )


RISK = {Severity.ERROR: "High", Severity.WARNING: "Medium", Severity.INFO: "Low"}


def as_markdown(report: Report, fail_on: Severity, note: str = "") -> str:
    """A schema analysis report a person can hand to a colleague.

    The decisions it cites (D1…, R-1…, PLATFORM.md) link to their files, relative to
    ``docs/`` (where the samples live). ``note`` is a paragraph put under the title.
    """
    out = [f"# Schema analysis: {report.database}", ""]
    if note:
        out += [note, ""]
    out += [
        f"- Database: `{report.database}`, PostgreSQL {report.server_version}",
        f"- Checks run: {checks_run(report, _code)}",
        f"- Schema: {schema_compared(report, _code)}",
        f"- Platform's models: {platform_compared(report, _code)}",
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
    out += _archive_section(report)
    out += _risk_section(report)
    out += _actions_section(report)
    return "\n".join(map(linked, out)).rstrip() + "\n"


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
    """The tables with their rows; whether each belongs only where it does not (or where
    nothing was compared), and the tables the schema describes but the database lacks."""
    expected = set(report.expected_tables)
    compared = "drift" in report.checks and bool(expected)
    out = [f"## Tables found ({len(report.tables)})", ""]
    if report.tables:
        out += ["| table | rows |", "|---|---:|"]
        out += [f"| `{name}` | {_rows(figure)} |" for name, figure in report.tables.items()]
        out.append("")
        out += _rows_legend(report)
    unexpected = [name for name in report.tables if name not in expected]
    not_compared = (
        "Not compared: `drift` did not run."
        if "drift" not in report.checks
        else "Not compared: the migrations that describe the schema are not applied."
    )
    if not compared:
        out += [not_compared, ""]
    elif unexpected:
        listed = ", ".join(f"`{name}`" for name in unexpected)
        out += [f"Not in the schema compared with ({len(unexpected)}): {listed}.", ""]
    else:
        out += ["Every table found is in the schema compared with.", ""]
    missing = sorted(expected - set(report.tables))
    out += [f"## Missing tables ({len(missing)})", ""]
    if not compared:
        out += [not_compared, ""]
    elif missing:
        out += [f"- `{name}`" for name in missing] + [""]
    else:
        out += ["None: every table the schema describes exists.", ""]
    return out


def _rows(figure) -> str:
    if figure.rows is None:
        return "unknown"
    return f"{figure.rows:,}" if figure.exact else f"≈ {figure.rows:,} (estimate)"


def _rows_legend(report: Report) -> list[str]:
    figures = report.tables.values()
    if all(figure.exact for figure in figures):
        return ["Rows counted exactly (`count(*)`).", ""]
    parts = []
    if any(figure.exact for figure in figures):
        parts.append("counted exactly where the planner estimates fewer than 10,000")
    if any(not figure.exact and figure.rows is not None for figure in figures):
        parts.append("≈ marks the planner's estimate (not counted)")
    if any(figure.rows is None for figure in figures):
        parts.append(
            "unknown: never analysed, and not counted (only the markdown report counts, "
            "within the statement timeout)"
        )
    return [f"Rows: {'; '.join(parts)}.", ""]


def _archive_section(report: Report) -> list[str]:
    """``archive.manifest``: what the migrations archived before dropping or changing it.

    The runs that archived rows, one line each; the runs that found nothing, per source.
    A column no run has a value for (archiving times left out, nothing restored) is left out.
    """
    out = ["## Archive", ""]
    if report.archive is None:
        return [*out, report.archive_absent, ""]
    runs = report.archive
    if not runs:
        return [*out, "The `archive` schema exists; its manifest records no archiving run.", ""]
    kept = [run for run in runs if run.row_count]
    empty = [run for run in runs if not run.row_count]
    restored = sum(1 for run in runs if run.restored_at)
    out += [
        f"`archive.manifest` records {len(runs)} archiving run(s): {len(kept)} archived "
        f"{sum(run.row_count for run in kept):,} row(s) from "
        f"{len({run.source for run in kept})} source(s), {len(empty)} found nothing to "
        f"archive; {f'{restored} run(s) restored' if restored else 'none restored'}.",
        "",
    ]
    columns = {
        "archived at": any(run.archived_at for run in kept),
        "restored at": any(run.restored_at for run in kept),
    }
    shown = [name for name, present in columns.items() if present]
    if kept:
        header = ["source", "rows", "selection", "archived into", "migration", "checksum (md5)"]
        out.append(f"| {' | '.join(header + shown)} |")
        out.append("|---|---:|" + "---|" * (len(header) - 2 + len(shown)))
        for run in sorted(kept, key=lambda run: run.source):
            cells = [
                f"`{run.source}`",
                f"{run.row_count:,}",
                f"`{run.selection}`",
                f"`{run.archive_table}`",
                f"`{run.migration}`",
                f"`{run.checksum}`",
            ]
            if "archived at" in shown:
                cells.append(_when(run.archived_at))
            if "restored at" in shown:
                cells.append(_when(run.restored_at))
            out.append(f"| {' | '.join(cells)} |")
        out.append("")
    if empty:
        sources: dict[str, int] = {}
        for run in empty:
            sources[run.source] = sources.get(run.source, 0) + 1
        listed = ", ".join(f"`{source}` ({number})" for source, number in sorted(sources.items()))
        out += [f"Runs that found nothing to archive, per source: {listed}.", ""]
    return out


def _when(moment) -> str:
    return "-" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


# -- links to the decisions the report cites ------------------------------------------------

LINKS_FROM = "docs"  # the report's links are relative to this folder of the repository
TARGET_SCHEMA = "contract/domain/TARGET_SCHEMA.md"
PLATFORM = "contract/application/PLATFORM.md"
_CITED = re.compile(r"\b(?:D\d{1,2}|R-\d{1,2})\b|\b(?:PLATFORM|TARGET_SCHEMA)\.md\b")
_DEFINED = re.compile(r"\*\*(D\d{1,2}|R-\d{1,2})\b")


def linked(line: str) -> str:
    """``line`` with each decision it cites outside code spans made a link to its file."""
    if line.startswith("#"):
        return line
    parts = line.split("`")
    for index in range(0, len(parts), 2):  # the even parts are outside code spans
        parts[index] = _CITED.sub(_link, parts[index])
    return "`".join(parts)


def _link(match: re.Match) -> str:
    cited = match[0]
    if cited == "PLATFORM.md":
        return f"[{cited}]({_relative(PLATFORM)})"
    anchor = _anchors().get(cited, "")
    return f"[{cited}]({_relative(TARGET_SCHEMA)}{f'#{anchor}' if anchor else ''})"


def _relative(path: str) -> str:
    return "../" * len(Path(LINKS_FROM).parts) + path


@functools.cache
def _anchors() -> dict[str, str]:
    """Each decision of TARGET_SCHEMA.md, with the anchor of the heading it is defined under."""
    anchors: dict[str, str] = {}
    heading = ""
    for line in (Path(settings.BASE_DIR) / TARGET_SCHEMA).read_text().splitlines():
        if line.startswith("#"):
            heading = heading_anchor(line)
        for name in _DEFINED.findall(line):
            anchors.setdefault(name, heading)
    return anchors


def heading_anchor(heading: str) -> str:
    """The anchor GitHub gives a markdown heading."""
    text = heading.lstrip("#").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


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
