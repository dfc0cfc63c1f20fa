"""The registry every check module fills: ``@check(name, section, action)`` beside each check.

Checks run in the order they are registered: the order of the modules that
``database.integrity.checks`` imports, then the order of the checks within each module.
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from database.integrity import platform, schema
from database.integrity.findings import Finding
from database.integrity.scan import Scan
from database.schema.catalog import Catalog

SCHEMA_SECTION = "Schema inconsistencies"
FK_SECTION = "Foreign-key issues"
DATA_SECTION = "Integrity findings"
PLATFORM_SECTION = "Compared with the platform's models"


@dataclass
class Context:
    """What every check may need, read once per run."""

    state: schema.MigrationState
    live: platform.LiveSchema  # {table: {column: LiveColumn}} of the live schema
    # The catalog the schema should have and the live tables to compare (None: unknown).
    expected: tuple[Catalog, set[str]] | None
    foreign: set[str] = field(default_factory=set)  # tables of apps the project does not own

    @functools.cached_property
    def columns(self) -> dict[str, dict[str, str]]:
        """``{table: {column: type}}`` of the live schema."""
        return {
            table: {name: column.type for name, column in columns.items()}
            for table, columns in self.live.items()
        }

    def has(self, table: str, *columns: str) -> bool:
        return table in self.columns and all(c in self.columns[table] for c in columns)


CheckFunction = Callable[[Scan, Context], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    name: str
    run: CheckFunction
    section: str  # where the schema analysis report lists its findings
    action: str  # what to do about them, for the report's action items


CHECKS: dict[str, Check] = {}


def check(name: str, section: str, action: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register the decorated function as the check ``name``, after those registered so far."""

    def register(function: CheckFunction) -> CheckFunction:
        if name in CHECKS:
            raise ValueError(f"The check {name!r} is registered twice.")
        CHECKS[name] = Check(name, function, section, action)
        return function

    return register
