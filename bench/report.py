"""Targets, the terminal table and the results file."""

import datetime
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"

NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Target:
    name: str
    goal: str
    value: float | None  # None: not measured
    passed: bool | None
    shown: str
    why: str = ""  # why it is not measured

    @property
    def verdict(self) -> str:
        if self.value is None:
            return NOT_MEASURED
        return "PASS" if self.passed else "MISS"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "goal": self.goal,
            "value": self.value,
            "shown": self.shown,
            "result": self.verdict,
            "why": self.why,
        }


def at_least(name: str, goal: str, value: float | None, bound: float, unit: str, why: str = ""):
    return _target(name, goal, value, value is not None and value >= bound, unit, why)


def at_most(name: str, goal: str, value: float | None, bound: float, unit: str, why: str = ""):
    return _target(name, goal, value, value is not None and value <= bound, unit, why)


def below(name: str, goal: str, value: float | None, bound: float, unit: str, why: str = ""):
    return _target(name, goal, value, value is not None and value < bound, unit, why)


def _target(name, goal, value, passed, unit, why) -> Target:
    shown = f"{NOT_MEASURED}: {why}" if value is None else f"{value:,.2f}{unit}"
    return Target(name, goal, value, passed if value is not None else None, shown, why)


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(_meminfo_kb("MemTotal") / 1024 / 1024, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def _meminfo_kb(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return 0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def print_targets(targets: list[Target]) -> None:
    width = max(len(t.name) for t in targets)
    print(f"\n{'target':<{width}}  {'goal':<22} {'result':<12} value")
    for t in targets:
        print(f"{t.name:<{width}}  {t.goal:<22} {t.verdict:<12} {t.shown}")


LONGEST_FIRST_COLUMN = 44  # a longer name gets a line of its own, its figures below it


def print_rows(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    print(f"\n== {title}")
    table = [tuple(str(cell) for cell in row) for row in [header, *rows]]
    fitting = [row[0] for row in table if len(row[0]) <= LONGEST_FIRST_COLUMN]
    widths = [max(map(len, fitting))] + [
        max(len(row[i]) for row in table) for i in range(1, len(header))
    ]
    for name, *figures in table:
        if len(name) > widths[0]:
            print(f"  {name}")
            name = ""
        cells = [name, *figures]
        line = "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True))
        print(f"  {line}".rstrip())


def write(results: dict[str, Any], latest: bool = True) -> list[Path]:
    """A dated results file, and ``results/latest.json`` when ``latest``; the paths written."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    users = results["scale"]["users"]
    reused = "-reused" if results["scale"].get("reused") else ""
    text = json.dumps(results, indent=2, sort_keys=False, default=str) + "\n"
    paths = [RESULTS_DIR / f"{stamp}-users{users}{reused}.json"]
    if latest:
        paths.insert(0, RESULTS_DIR / "latest.json")
    for path in paths:
        path.write_text(text)
    return paths


# -- growth between two runs ----------------------------------------------------------------

# Details left out of the growth: per-check and per-migration lists (the totals are in),
# counts of planted defects, descriptions, and the load averages (keyed by phase text).
NOT_GROWN = {
    "raw_per_check_seconds",
    "raw_counts",
    "per_migration",
    "project_findings_per_check",
    "planted_defects",
    "project_slow_statements",
    "raw_slow_statements",
    "load_average_1min_at",
    "methods",
    "machine",
    "targets",
    "sampler_samples",
    "status",
    "project_exit_code",
}


def read(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def figures(results: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every number of a results file by its dotted path, but for ``NOT_GROWN``."""
    found: dict[str, float] = {}
    for key, value in results.items():
        if key in NOT_GROWN:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            found |= figures(value, f"{path}.")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found[path] = value
    return found


def growth(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Per figure both runs have: its value in each and after / before."""
    old, new = figures(before), figures(after)
    return {
        "from": before.get("command", "?") + f" ({before.get('when', '?')})",
        "to": after.get("command", "?") + f" ({after.get('when', '?')})",
        "figures": {
            path: {
                "before": old[path],
                "after": new[path],
                "ratio": round(new[path] / old[path], 2) if old[path] else None,
            }
            for path in old
            if path in new
        },
    }


def print_growth(section: dict[str, Any]) -> None:
    rows = [
        (
            path,
            f"{f['before']:,}",
            f"{f['after']:,}",
            "-" if f["ratio"] is None else f"{f['ratio']}x",
        )
        for path, f in section["figures"].items()
    ]
    title = f"growth from {section['from']} to {section['to']}"
    print_rows(title, rows, ("figure", "before", "after", "after / before"))


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="How each figure grew between two results files.")
    parser.add_argument(
        "--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"), required=True
    )
    args = parser.parse_args(argv)
    print_growth(growth(read(args.compare[0]), read(args.compare[1])))


if __name__ == "__main__":
    main()
