"""The checks, by topic, each registered beside its code (``registry.check``).

Each check takes its ``Scan`` (a read-only transaction) and the ``Context`` read once per
run, and yields findings. Each reads with set-based SQL: catalog queries over the whole
schema, and at most one statement per table, column or constraint for the data; no check
loops over rows in Python, and no check query returns more than a bounded number of rows.

The imports below are the run order: checks run module by module, in each module in the
order they are defined.
"""

# isort: off
from database.integrity.checks import schema  # noqa: F401
from database.integrity.checks import indexes  # noqa: F401
from database.integrity.checks import orphans  # noqa: F401
from database.integrity.checks import sequences  # noqa: F401
from database.integrity.checks import values  # noqa: F401
from database.integrity.checks import secrets  # noqa: F401
from database.integrity.checks import conflicts  # noqa: F401
from database.integrity.checks import platform_models  # noqa: F401

# isort: on
from database.integrity.checks.registry import (
    CHECKS,
    DATA_SECTION,
    FK_SECTION,
    PLATFORM_SECTION,
    SCHEMA_SECTION,
    Check,
    Context,
)

__all__ = [
    "CHECKS",
    "DATA_SECTION",
    "FK_SECTION",
    "PLATFORM_SECTION",
    "SCHEMA_SECTION",
    "Check",
    "Context",
]
