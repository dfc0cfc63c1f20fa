"""Admin pages that are not a model: the ``archive`` schema and the integrity report.

Both are read-only, for staff (``admin.site.admin_view``) holding the page's own view
permission (``database.view_archive``, ``database.view_integrity_report``: the inspector
group has them, see ``database.admin.inspector``; others get 403), and bounded: the archive shows
tables with their estimated sizes and at most ``ARCHIVE_PAGE`` rows per page, up to
``ARCHIVE_MAX_OFFSET``, empty archive tables folded away under the manifest's summary; the
integrity page shows the latest report of the checks of ``database.integrity`` (run in
process, read-only, with a statement timeout) at once, and runs them again when asked.
Archived values that look like secrets (by column name, JSON key or shape) are masked like
everywhere else in the admin.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.core.cache import cache
from django.db import DatabaseError, connections, router, transaction
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from psycopg import sql

from database.admin.base import SECRET_COLUMNS, SECRET_NAME
from database.admin.inspector import ARCHIVE_PERMISSION, INTEGRITY_PERMISSION
from database.secrets import crypto

ARCHIVE_SCHEMA = "archive"
ARCHIVE_PAGE = 50
ARCHIVE_MAX_OFFSET = 10_000
INTEGRITY_TIMEOUT = 20.0  # seconds per statement
INTEGRITY_KEEP = 3600  # seconds a report is shown before a view runs the checks again
INTEGRITY_WAIT = 20.0  # seconds a request waits for a run before showing "running"
INTEGRITY_RELOAD = 5  # seconds between reloads of the page while a run goes on
MASK = "••••"
logger = logging.getLogger(__name__)
_SECRET_SHAPES = re.compile(r"^\$2[aby]\$\d\d\$|^pbkdf2_|^argon2")


def inspection_alias() -> str:
    """The database the domain models are read from (the admin follows the routers)."""
    return router.db_for_read(apps.get_model("accounts", "User"))


# --------------------------------------------------------------------------------- archive


def archive_tables(alias: str) -> list[dict[str, Any]] | None:
    """Tables of the archive schema with their row counts; None when the schema is absent.

    Counts are the planner's estimate; a table the planner takes for empty (never analysed,
    or analysed before it was filled) is counted exactly, capped at ``ARCHIVE_MAX_OFFSET``,
    all of them in one statement (archives are written once and are mostly small). ``empty``
    is therefore exact.
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
        found = cursor.fetchall()
        uncertain = [name for name, rows, _, _ in found if rows <= 0]
        exact = {}
        if uncertain:
            count = sql.SQL(
                "SELECT {name}, "
                "(SELECT count(*) FROM (SELECT 1 FROM {schema}.{table} LIMIT {cap}) AS t)"
            )
            query = sql.SQL(" UNION ALL ").join(
                count.format(
                    name=sql.Literal(name),
                    schema=sql.Identifier(ARCHIVE_SCHEMA),
                    table=sql.Identifier(name),
                    cap=sql.Literal(ARCHIVE_MAX_OFFSET + 1),
                )
                for name in uncertain
            )
            cursor.execute(query.as_string(cursor.connection))
            exact = dict(cursor.fetchall())
        tables = []
        for name, estimate, comment, size in found:
            rows = exact.get(name, estimate)
            tables.append(
                {
                    "name": name,
                    "rows": rows,
                    "estimated": name not in exact or rows > ARCHIVE_MAX_OFFSET,
                    "empty": rows == 0,
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
        entries = []
        for row in cursor.fetchall():
            values = dict(zip(columns, row, strict=True))
            entry = {column: _display(value) for column, value in values.items()}
            for column, label in (("archived_at", "archived"), ("restored_at", "restored")):
                moment = values.get(column)
                entry[label] = moment.strftime("%Y-%m-%d %H:%M") if moment else ""
            entries.append(entry)
        return entries


def manifest_summary(alias: str, tables: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Totals over the whole manifest: runs, runs that archived rows, rows, migrations,
    restored runs, the latest run."""
    if not any(table["name"] == "manifest" for table in tables):
        return None
    with connections[alias].cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "SELECT count(*), count(*) FILTER (WHERE row_count > 0), "
                "coalesce(sum(row_count), 0), count(DISTINCT migration), "
                "count(restored_at), max(archived_at) FROM {}.manifest"
            )
            .format(sql.Identifier(ARCHIVE_SCHEMA))
            .as_string(cursor.connection)
        )
        runs, with_rows, rows, migrations, restored, latest = cursor.fetchone()
    return {
        "runs": runs,
        "with_rows": with_rows,
        "empty_runs": runs - with_rows,
        "rows": rows,
        "migrations": migrations,
        "restored": restored,
        "latest": latest,
    }


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


@permission_required(ARCHIVE_PERMISSION, raise_exception=True)
def archive_index_view(request):
    alias = inspection_alias()
    tables = archive_tables(alias)
    manifest = archive_manifest(alias, tables or [])
    context = {
        **admin.site.each_context(request),
        "title": "Archive",
        "tables": tables,
        "filled_tables": [t for t in tables or [] if not t["empty"]],
        "empty_tables": [t for t in tables or [] if t["empty"]],
        "table_names": {t["name"] for t in tables or []},
        "summary": manifest_summary(alias, tables or []),
        "manifest": [entry for entry in manifest if entry.get("row_count") != "0"],
        "empty_manifest": [entry for entry in manifest if entry.get("row_count") == "0"],
        "schema": ARCHIVE_SCHEMA,
    }
    return TemplateResponse(request, "admin/database/archive_index.html", context)


@permission_required(ARCHIVE_PERMISSION, raise_exception=True)
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
#
# The page shows the latest report at once. A report is kept in Django's cache (per database,
# ``INTEGRITY_KEEP`` seconds) with when it ran and how long it took; when none is kept, the
# first view starts a run. Runs happen in a background thread, one at a time per database and
# process: the request waits up to ``INTEGRITY_WAIT`` seconds for it (a small database is
# done by then), else the page says the checks are running and reloads itself. So a view
# never holds a request past a proxy's timeout, and operators opening or reloading the page
# do not each start the read-only but whole-database checks again; "Run again" does.


@dataclass
class IntegrityRun:
    started: datetime.datetime
    by: str
    done: threading.Event = field(default_factory=threading.Event)
    error: str = ""


_RUNS: dict[str, IntegrityRun] = {}
_RUNS_LOCK = threading.Lock()


def _report_key(alias: str) -> str:
    settings_dict = connections[alias].settings_dict
    where = "|".join(str(settings_dict.get(k) or "") for k in ("HOST", "PORT", "NAME"))
    return "database.integrity.report." + hashlib.sha256(where.encode()).hexdigest()[:32]


def start_integrity_run(alias: str, by: str) -> IntegrityRun:
    """The run in progress for ``alias`` in this process, or a new one started in a thread."""
    key = _report_key(alias)
    with _RUNS_LOCK:
        run = _RUNS.get(key)
        if run is not None and not run.done.is_set():
            return run
        run = _RUNS[key] = IntegrityRun(started=timezone.now(), by=by)
    threading.Thread(
        target=_run_integrity, args=(alias, key, run), name="integrity-report", daemon=True
    ).start()
    return run


def _run_integrity(alias: str, key: str, run: IntegrityRun) -> None:
    from database.integrity import runner

    try:
        report = runner.run_checks(alias, timeout=INTEGRITY_TIMEOUT)
        cache.set(key, _kept_report(report, run), INTEGRITY_KEEP)
    except DatabaseError as error:
        run.error = f"The checks could not run: {error}"
    except Exception as error:  # a thread's exception would otherwise vanish
        logger.exception("The integrity checks failed")
        run.error = f"The checks failed: {type(error).__name__}: {error}"
    finally:
        connections.close_all()  # this thread's connections only
        run.done.set()


def _kept_report(report, run: IntegrityRun) -> dict[str, Any]:
    """What the page shows of a report: plain values, samples masked, nothing else kept."""
    from database.integrity.findings import Severity

    findings = sorted(report.findings, key=lambda f: (-f.severity, f.check, f.where))
    finished = timezone.now()
    return {
        "database": report.database,
        "server_version": report.server_version,
        "schema_basis": report.schema_basis,
        "checks": list(report.checks),
        "counts": report.counts(),
        "started": run.started,
        "finished": finished,
        "seconds": round((finished - run.started).total_seconds(), 1),
        "by": run.by,
        "findings": [
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
    }


@permission_required(INTEGRITY_PERMISSION, raise_exception=True)
def integrity_view(request):
    context = {**admin.site.each_context(request), "title": "Integrity report"}
    try:
        from database.integrity import runner
    except ImportError:
        context["unavailable"] = "The integrity checks (database.integrity) are not installed."
        return TemplateResponse(request, "admin/database/integrity.html", context)
    alias = inspection_alias()
    key = _report_key(alias)
    if request.method == "POST":  # "Run again"
        start_integrity_run(alias, request.user.get_username()).done.wait(INTEGRITY_WAIT)
        return HttpResponseRedirect(request.path)
    report = cache.get(key)
    run = _RUNS.get(key)
    if report is None and run is None:  # first view: run now (a failed run waits for a click)
        run = start_integrity_run(alias, request.user.get_username())
    if run is not None and not run.done.is_set():
        run.done.wait(INTEGRITY_WAIT)
        report = cache.get(key)
    running = run is not None and not run.done.is_set()
    context.update(
        checks=runner.selected_checks(),
        report=report,
        running=run if running else None,
        error=run.error if run is not None and run.done.is_set() else "",
        reload_seconds=INTEGRITY_RELOAD if running else None,
        timeout=round(INTEGRITY_TIMEOUT),
        keep_minutes=INTEGRITY_KEEP // 60,
    )
    return TemplateResponse(request, "admin/database/integrity.html", context)
