"""What the models declare about values: required ones, unique ones."""

from collections.abc import Iterator

from django.db import connections, models
from django.db.models import Count, F, Max, Min
from django.db.models.functions import Cast, Collate

from database.integrity import declarations
from database.integrity.checks.registry import DATA_SECTION, Context, check
from database.integrity.findings import SAMPLE_SIZE, Finding, Severity
from database.integrity.scan import SCHEMA, Scan, attnames, rows_finding


@check(
    "required_values",
    DATA_SECTION,
    "Fill in the values where the true value is known; otherwise record the decision "
    "(TARGET_SCHEMA.md D7 keeps users.created_at NULL).",
)
def required_values(scan: Scan, context: Context) -> Iterator[Finding]:
    """NULLs in columns the models declare required (``required_values``)."""
    for entry in declarations.declarations("required_values"):
        if not context.has(entry.table, entry.column):
            continue
        rows = entry.model._base_manager.using(scan.alias).filter(
            entry.rule, **{f"{entry.field.name}__isnull": True}
        )
        condition = declarations.describe_condition(entry.rule)
        yield from rows_finding(
            scan,
            "required_values",
            Severity.WARNING,
            rows,
            entry,
            f"have no {entry.column}"
            + (f" although {condition}" if condition else "")
            + ": the domain requires a value",
        )


_UNIQUE_INDEXES = f"""
SELECT t.relname, {attnames("x.indrelid", "x.indkey")}
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = %s AND x.indisunique AND x.indisvalid AND x.indexprs IS NULL
"""


@check(
    "unique_values",
    DATA_SECTION,
    "Merge or archive the duplicates; only then add the unique constraint.",
)
def unique_values(scan: Scan, context: Context) -> Iterator[Finding]:
    """Duplicates among values the models expect unique but the database does not enforce.

    ``unique_values`` declarations always; a model's unique constraint only while the live
    database has no valid unique index on those columns (not yet migrated, dropped, or left
    INVALID by a failed build).
    """
    enforced = {
        (table, frozenset(columns)) for table, columns in scan.rows(_UNIQUE_INDEXES, [SCHEMA])
    }
    for expectation in declarations.unique_expectations():
        table, columns = expectation.table, expectation.columns
        if not context.has(table, *columns):
            continue
        if not expectation.declared and (table, frozenset(columns)) in enforced:
            continue
        keys = {f"_key{number}": key for number, key in enumerate(expectation.keys)}
        members = (
            expectation.model._base_manager.using(scan.alias)
            .filter(expectation.condition)
            .annotate(**keys)
            .filter(**{f"{name}__isnull": False for name in keys})
        )
        where = {"table": table, "column": ", ".join(columns)}
        found = scan.guarded(
            f"duplicates in {table}.{', '.join(columns)}",
            lambda members=members, names=list(keys): _duplicates(members, names),
            where,
        )
        if not found or not found[0]:
            continue
        group_count, row_count, sample = found
        yield Finding(
            "unique_values",
            Severity.WARNING,
            f"{row_count} rows of {table} share their {expectation.compared} with another "
            f"row ({group_count} group(s)), although the domain expects it unique.",
            count=row_count,
            sample=tuple(sample),
            **where,
        )


def _duplicates(members, keys: list[str]) -> tuple[int, int, list[str]]:
    """Duplicate groups among ``members`` (rows annotated with ``keys``), rows in them, and
    the ids of the first groups (by their lowest id), in one statement.

    The groups are counted by hashing, with their lowest and highest ids, which are all the
    ids of a pair; only a sampled group of more rows is looked up again for the rest.
    """
    pk = _sortable(members.model._meta.pk)
    groups = (
        members.values(*keys)
        .annotate(_rows=Count("pk"), _first=Min(pk), _last=Max(pk))
        .filter(_rows__gt=1)
        .order_by()
        .values_list(*keys, "_rows", "_first", "_last")
    )
    rows = members.order_by().values_list(pk, *keys)
    names = [f"k{number}" for number in range(len(keys))]
    columns = ", ".join(names)
    same = " AND ".join(f"m.{name} = f.{name}" for name in names)
    group_sql, group_params = groups.query.get_compiler(using=members.db).as_sql()
    row_sql, row_params = rows.query.get_compiler(using=members.db).as_sql()
    with connections[members.db].cursor() as cursor:
        cursor.execute(
            f"WITH duplicate({columns}, _rows, _first, _last) AS MATERIALIZED ({group_sql}) "
            "SELECT (SELECT pg_catalog.count(*) FROM duplicate), "
            "(SELECT coalesce(pg_catalog.sum(_rows), 0)::bigint FROM duplicate), "
            "ARRAY(SELECT CASE WHEN f._rows = 2 THEN f._first::text || ', ' || f._last::text "
            "ELSE (SELECT pg_catalog.string_agg(m.pk::text, ', ' ORDER BY m.pk) "
            f"FROM ({row_sql}) AS m(pk, {columns}) WHERE {same}) END "
            f"FROM duplicate f ORDER BY f._first LIMIT {SAMPLE_SIZE})",
            (*group_params, *row_params),
        )
        group_count, row_count, samples = cursor.fetchone()
    return group_count, row_count, [f"ids {ids}" for ids in samples]


def _sortable(pk: models.Field):
    """The primary key as ``min()`` can take it, in the key's own order (PostgreSQL has no
    ``min(uuid)``; a uuid's text in the C collation sorts as the uuid does)."""
    if isinstance(pk, models.UUIDField):
        return Collate(Cast("pk", models.TextField()), "C")
    return F("pk")
