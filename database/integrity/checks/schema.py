"""Schema checks: unapplied migrations, drift from the migrated schema, constraints never
validated."""

from collections.abc import Iterator

from database.integrity.checks.registry import SCHEMA_SECTION, Context, check
from database.integrity.findings import Finding, Severity
from database.integrity.scan import SCHEMA, Scan, count_and_sample
from database.schema.catalog import diff_catalogs, read_catalog


@check(
    "unapplied_migrations",
    SCHEMA_SECTION,
    "Apply them with `python manage.py migrate` (a database not adopted yet: "
    "`migrate --fake-initial`).",
)
def unapplied_migrations(scan: Scan, context: Context) -> Iterator[Finding]:
    """Migrations on disk that the database has not recorded, and the reverse."""
    state = context.state
    by_app: dict[str, list[str]] = {}
    for app, name in state.unapplied:
        by_app.setdefault(app, []).append(name)
    nothing = "" if state.recorded else " No migration is recorded at all (not adopted yet)."
    for app, names in by_app.items():
        yield Finding(
            "unapplied_migrations",
            Severity.WARNING,
            f"{len(names)} migration(s) of '{app}' not applied, from {names[0]}.{nothing}",
            object=app,
            count=len(names),
            sample=tuple(names),
        )
    for app, name in state.unknown:
        yield Finding(
            "unapplied_migrations",
            Severity.WARNING,
            f"{app}.{name} is recorded as applied but is not in the project.",
            object=app,
            count=1,
            sample=(name,),
        )


_DRIFT_COLUMN_KINDS = {"missing column", "extra column"}


@check(
    "drift",
    SCHEMA_SECTION,
    "Bring the schema back to what the migrations build, or write the migration "
    "that makes the change official; regenerate the snapshot with `python manage.py "
    "schema_snapshot` only when the migrations changed.",
)
def drift(scan: Scan, context: Context) -> Iterator[Finding]:
    """Differences between the live schema and the one the migrations build."""
    if context.expected is None:
        yield Finding(
            "drift",
            Severity.INFO,
            f"Schema not compared with the migrations: {len(context.state.unapplied)} "
            "of them are not applied, so nothing says what it should be. Apply them (see "
            "unapplied_migrations) and check again.",
            object="schema",
        )
        return
    catalog, tables = context.expected
    with scan.connection.cursor() as cursor:
        found = read_catalog(cursor, tables, SCHEMA)
    for difference in diff_catalogs(catalog, found):
        is_column = difference.kind in _DRIFT_COLUMN_KINDS or difference.kind.startswith("column ")
        yield Finding(
            "drift",
            Severity.INFO if difference.kind == "column order" else Severity.ERROR,
            f"{difference.kind}: {difference.explained()}.",
            table=None if difference.table == "(types)" else difference.table,
            column=difference.name if is_column and difference.name else None,
            object=None if is_column else (difference.name or None),
        )


@check(
    "unvalidated_constraints",
    SCHEMA_SECTION,
    "Repair the rows that violate it, then `ALTER TABLE ... VALIDATE CONSTRAINT ...` "
    "(it does not block writes).",
)
def unvalidated_constraints(scan: Scan, context: Context) -> Iterator[Finding]:
    """Constraints added NOT VALID and never validated: old rows were never checked."""
    for table, name, kind, definition, expression in scan.rows(
        """
        SELECT t.relname, con.conname, con.contype, pg_catalog.pg_get_constraintdef(con.oid),
               pg_catalog.pg_get_expr(con.conbin, con.conrelid)
        FROM pg_catalog.pg_constraint con
        JOIN pg_catalog.pg_class t ON t.oid = con.conrelid
        JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %s AND NOT con.convalidated
        ORDER BY t.relname, con.conname
        """,
        [SCHEMA],
    ):
        where = {"table": table, "object": name}
        if kind == "f":
            behind = "its orphans, if any, are listed by fk_orphans"
            count = None
        else:
            relation = f"{scan.ident(SCHEMA, table)} c"
            found = count_and_sample(
                scan,
                f"rows violating {name}",
                relation,
                "NULL::text",
                f"NOT ({expression})",
                where,
            )
            count = None if found is None else found[0]
            behind = "it could not be counted" if count is None else f"{count} row(s) violate it"
        yield Finding(
            "unvalidated_constraints",
            Severity.WARNING,
            f"Constraint {name} is NOT VALID ({definition}): existing rows were never "
            f"checked; {behind}.",
            count=count,
            **where,
        )
