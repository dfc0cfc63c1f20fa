"""Rows that reference nothing: behind foreign-key constraints and behind references no
constraint guards."""

from collections.abc import Iterator

from database.integrity import declarations
from database.integrity.checks.registry import FK_SECTION, Context, check
from database.integrity.findings import Finding, Severity
from database.integrity.scan import SCHEMA, Scan, foreign_keys, orphans


@check(
    "fk_orphans",
    FK_SECTION,
    "Archive and repair the orphan rows, find what wrote them past the constraint, "
    "then validate it.",
)
def fk_orphans(scan: Scan, context: Context) -> Iterator[Finding]:
    """Rows behind every foreign-key constraint, valid or not, that match no parent row.

    A validated constraint cannot have orphans unless rows were written with its triggers
    bypassed (``session_replication_role = replica``, a restore); the data is checked anyway.
    """
    for key in foreign_keys(scan):
        where = {"table": key.table, "column": ", ".join(key.columns), "object": key.name}
        found = orphans(
            scan,
            key.table,
            key.columns,
            (key.target_schema, key.target_table),
            key.target_columns,
            where=where,
        )
        if not found or not found[0]:
            continue
        count, sample = found
        how = (
            "they were written with its triggers bypassed"
            if key.validated
            else "the constraint is NOT VALID, so they were never checked"
        )
        yield Finding(
            "fk_orphans",
            Severity.ERROR,
            f"{count} row(s) of {key.table} reference no {key.target_table} row through "
            f"{key.name}: {how}.",
            count=count,
            sample=tuple(sample),
            **where,
        )


@check(
    "reference_orphans",
    FK_SECTION,
    "Archive the orphan values and set them to NULL (or restore what they point at); "
    "then the reference can become a real foreign key.",
)
def reference_orphans(scan: Scan, context: Context) -> Iterator[Finding]:
    """Values of references the models declare but no constraint guards, matching nothing.

    Covers ``ForeignKey(db_constraint=False)``, foreign keys whose constraint is missing
    from the database, and ``implied_references``.
    """
    constrained = {
        (key.table, key.columns, key.target_table, key.target_columns)
        for key in foreign_keys(scan)
    }
    for ref in declarations.model_references():
        key = (ref.table, ref.columns, ref.target_table, ref.target_columns)
        if key in constrained or not context.has(ref.table, *ref.columns):
            continue
        target_exists = context.has(ref.target_table, *ref.target_columns)
        types_differ = target_exists and any(
            context.columns[ref.table][mine] != context.columns[ref.target_table][theirs]
            for mine, theirs in zip(ref.columns, ref.target_columns, strict=True)
        )
        where = {"table": ref.table, "column": ", ".join(ref.columns)}
        found = orphans(
            scan,
            ref.table,
            ref.columns,
            (SCHEMA, ref.target_table) if target_exists else None,
            ref.target_columns,
            as_text=types_differ,
            where=where,
        )
        if not found or not found[0]:
            continue
        count, sample = found
        if not target_exists:
            why = f"{ref.target} does not exist, so every value is an orphan"
        elif types_differ:
            why = f"no {ref.target} matches (compared as text: the types differ)"
        else:
            why = f"no {ref.target} matches"
        yield Finding(
            "reference_orphans",
            Severity.ERROR,
            f"{count} row(s) of {ref.table} point at nothing through {ref.where} "
            f"({ref.declared_by}, no constraint): {why}.",
            count=count,
            sample=tuple(sample),
            **where,
        )
