"""Admin pages that are not a model: the ``archive`` schema and the integrity report.

Both are read-only, staff-only (``admin.site.admin_view``) and bounded: the archive shows
tables with their estimated sizes and at most ``ARCHIVE_PAGE`` rows per page, up to
``ARCHIVE_MAX_OFFSET``; the integrity report runs the checks of ``database.integrity`` in
process, with a statement timeout, only when asked. Archived values that look like secrets
(by column name, JSON key or shape) are masked like everywhere else in the admin.
"""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db import DatabaseError, connections, router, transaction
from django.http import Http404
from django.template.response import TemplateResponse
from psycopg import sql

from database import crypto
from database.admin import SECRET_COLUMNS, SECRET_NAME

ARCHIVE_SCHEMA = "archive"
ARCHIVE_PAGE = 50
ARCHIVE_MAX_OFFSET = 10_000
INTEGRITY_TIMEOUT = 20.0  # seconds per statement
MASK = "••••"
_SECRET_SHAPES = re.compile(r"^\$2[aby]\$\d\d\$|^pbkdf2_|^argon2")


def inspection_alias() -> str:
    """The database the domain models are read from (the admin follows the routers)."""
    return router.db_for_read(apps.get_model("accounts", "User"))


# --------------------------------------------------------------------------------- archive


def archive_tables(alias: str) -> list[dict[str, Any]] | None:
    """Tables of the archive schema with their row counts; None when the schema is absent.

    Counts are the planner's estimate, or an exact count capped at ``ARCHIVE_MAX_OFFSET`` for
    a table never analysed yet (archives are written once and are usually small).
    """
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT to_regnamespace(%s) IS NOT NULL", [ARCHIVE_SCHEMA])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(
            """
            SELECT c.relname, c.reltuples::bigint, obj_description(c.oid, 'pg_class'),
                   pg_total_relation_size(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
            ORDER BY c.relname
            """,
            [ARCHIVE_SCHEMA],
        )
        tables = []
        for name, rows, comment, size in cursor.fetchall():
            estimated = rows >= 0
            if not estimated:
                cursor.execute(
                    sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {}.{} LIMIT %s) AS t")
                    .format(sql.Identifier(ARCHIVE_SCHEMA), sql.Identifier(name))
                    .as_string(cursor.connection),
                    [ARCHIVE_MAX_OFFSET + 1],
                )
                rows = cursor.fetchone()[0]
            tables.append(
                {
                    "name": name,
                    "rows": rows,
                    "estimated": estimated or rows > ARCHIVE_MAX_OFFSET,
                    "comment": comment or "",
                    "bytes": size,
                }
            )
        return tables


def archive_manifest(alias: str, tables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest manifest rows (source, migration, row count, checksum, times), if any."""
    if not any(table["name"] == "manifest" for table in tables):
        return []
    with connections[alias].cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT * FROM {}.manifest ORDER BY 1 DESC LIMIT %s")
            .format(sql.Identifier(ARCHIVE_SCHEMA))
            .as_string(cursor.connection),
            [ARCHIVE_PAGE * 4],
        )
        columns = [description.name for description in cursor.description]
        return [
            {column: _display(value) for column, value in zip(columns, row, strict=True)}
            for row in cursor.fetchall()
        ]


def _secret_archive(table: str) -> bool:
    """An archive of a secret column (``<table>__<column>__…``): only its key is shown."""
    parts = table.split("__")
    return any(SECRET_NAME.search(part) for part in parts[1:]) or any(
        f"{secret_table}__{secret_column}" in table
        for secret_table, secret_column in SECRET_COLUMNS
    )


def _is_secret_column(table: str, column: str) -> bool:
    if SECRET_NAME.search(column):
        return True
    return any(
        column == secret_column and secret_table in table
        for secret_table, secret_column in SECRET_COLUMNS
    )


def masked_value(value: Any) -> Any:
    """``value`` with anything secret-looking replaced by a mask (recursively into JSON)."""
    if isinstance(value, dict):
        if crypto.is_envelope(value):
            return crypto.masked(value)
        return {
            key: MASK if SECRET_NAME.search(str(key)) or key == "key" else masked_value(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [masked_value(item) for item in value]
    if isinstance(value, str):
        if crypto.is_envelope(value):
            return crypto.masked(value)
        if _SECRET_SHAPES.search(value):
            return MASK
        if value[:1] in ("{", "["):  # JSON kept as text (raw json archives)
            try:
                decoded = json.loads(value)
            except ValueError:
                return value
            return json.dumps(masked_value(decoded), ensure_ascii=False)
    return value


def _display(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return str(value)


def archive_rows(alias: str, table: str, offset: int) -> tuple[list[str], list[list[str]]]:
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute("SET LOCAL statement_timeout = '10s'")
        query = sql.SQL("SELECT * FROM {}.{} LIMIT %s OFFSET %s").format(
            sql.Identifier(ARCHIVE_SCHEMA), sql.Identifier(table)
        )
        cursor.execute(query.as_string(cursor.connection), [ARCHIVE_PAGE, offset])
        columns = [description.name for description in cursor.description]
        whole = _secret_archive(table)
        hidden = {
            column
            for index, column in enumerate(columns)
            if _is_secret_column(table, column)
            or (whole and index > 0 and column != "_manifest_id")
        }
        rows = [
            [
                MASK if column in hidden and value is not None else _display(masked_value(value))
                for column, value in zip(columns, row, strict=True)
            ]
            for row in cursor.fetchall()
        ]
    return columns, rows


def archive_index_view(request):
    alias = inspection_alias()
    tables = archive_tables(alias)
    context = {
        **admin.site.each_context(request),
        "title": "Archive",
        "tables": tables,
        "manifest": archive_manifest(alias, tables or []),
        "schema": ARCHIVE_SCHEMA,
    }
    return TemplateResponse(request, "admin/database/archive_index.html", context)


def archive_table_view(request, table: str):
    alias = inspection_alias()
    tables = archive_tables(alias) or []
    entry = next((t for t in tables if t["name"] == table), None)
    if entry is None:
        raise Http404(f"No table {table!r} in the archive schema")
    try:
        offset = max(0, min(int(request.GET.get("offset", 0)), ARCHIVE_MAX_OFFSET))
    except ValueError:
        offset = 0
    columns, rows = archive_rows(alias, table, offset)
    context = {
        **admin.site.each_context(request),
        "title": f"{ARCHIVE_SCHEMA}.{table}",
        "table": entry,
        "columns": columns,
        "rows": rows,
        "offset": offset,
        "previous_offset": max(0, offset - ARCHIVE_PAGE) if offset else None,
        "next_offset": (
            offset + ARCHIVE_PAGE
            if len(rows) == ARCHIVE_PAGE and offset + ARCHIVE_PAGE <= ARCHIVE_MAX_OFFSET
            else None
        ),
        "schema": ARCHIVE_SCHEMA,
    }
    return TemplateResponse(request, "admin/database/archive_table.html", context)


# ------------------------------------------------------------------------------ integrity


def integrity_view(request):
    context = {**admin.site.each_context(request), "title": "Integrity report"}
    try:
        from database.integrity import runner
        from database.integrity.findings import Severity
    except ImportError:
        context["unavailable"] = "The integrity checks (database.integrity) are not installed."
        return TemplateResponse(request, "admin/database/integrity.html", context)
    context["checks"] = runner.selected_checks()
    if request.GET.get("run"):
        alias = inspection_alias()
        try:
            report = runner.run_checks(alias, timeout=INTEGRITY_TIMEOUT)
        except DatabaseError as error:
            context["error"] = f"The checks could not run: {error}"
        else:
            findings = sorted(report.findings, key=lambda f: (-f.severity, f.check, f.where))
            context.update(
                report=report,
                counts=report.counts(),
                findings=[
                    {
                        "severity": finding.severity.label,
                        "check": finding.check,
                        "where": finding.where,
                        "count": finding.count,
                        "message": finding.message,
                        "sample": [_display(masked_value(s)) for s in finding.sample],
                        "failing": finding.severity >= Severity.WARNING,
                    }
                    for finding in findings
                ],
            )
    return TemplateResponse(request, "admin/database/integrity.html", context)
