"""The live database against the running platform's own models (D14)."""

from collections.abc import Iterator

from django.conf import settings

from database.integrity import platform
from database.integrity.checks.registry import PLATFORM_SECTION, Context, check
from database.integrity.findings import Finding, Severity
from database.integrity.scan import Scan
from database.schema import platform_contract


@check(
    "platform_models",
    PLATFORM_SECTION,
    "Each finding names its fix: apply the migrations the database lacks, or change "
    "the column or the platform's model (README: What the platform must change).",
)
def platform_models(scan: Scan, context: Context) -> Iterator[Finding]:
    """Where the live database and the running platform's models disagree (D14).

    Off when ``PLATFORM_CONTRACT`` names no contract. What breaks the platform is an error,
    what fails on some values a warning, a deliberate difference info (with its decision);
    what the platform's driver cannot tell apart is not reported.
    """
    if not settings.PLATFORM_CONTRACT:
        return
    contract = platform_contract.load(settings.PLATFORM_CONTRACT)
    for mismatch in platform.compare(contract, context.live, platform.production_schema()):
        severity = (
            Severity.INFO
            if mismatch.decision
            else Severity.ERROR
            if mismatch.breaks
            else Severity.WARNING
        )
        yield Finding(
            "platform_models",
            severity,
            platform.finding_message(mismatch),
            table=mismatch.table,
            column=mismatch.column,
            object=mismatch.kind if mismatch.column else None,
        )
