"""Read every row of the legacy tables by meaning, to prove that nothing was lost.

Only the production columns are read, so columns added later do not count; naive
timestamps are read as UTC and JSON is decoded, so a value whose type was modernised
(json to jsonb, timestamp to timestamptz) or that was encrypted in place compares equal to its
old self (TARGET_SCHEMA.md D10, D12).
"""

import datetime
import json
from typing import Any

from psycopg import sql

from database.schema import baseline
from database.secrets import crypto

Rows = dict[str, dict[Any, dict[str, Any]]]


def legacy_rows(conn) -> Rows:
    """``{table: {primary key: {column: value}}}`` for every legacy table still present."""
    snapshot = baseline.load_snapshot()["tables"]
    rows: Rows = {}
    for table, shape in snapshot.items():
        present = {
            name
            for (name,) in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = %s",
                [table],
            )
        }
        if not present:
            continue
        columns = [column["name"] for column in shape["columns"] if column["name"] in present]
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
        )
        rows[table] = {
            record[0]: dict(zip(columns, map(by_meaning, record), strict=True))
            for record in conn.execute(query)
        }
    return rows


def by_meaning(value: Any) -> Any:
    """Naive timestamps as UTC; values sealed in the platform's envelope as their plaintext."""
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    envelope = crypto.parse_envelope(value) if isinstance(value, str | dict) else None
    if envelope is not None:
        plaintext = crypto.decrypt(envelope)
        return json.loads(plaintext) if isinstance(value, dict) else plaintext
    return value


def archived_rows(conn) -> Rows:
    """What the archive holds, by source table and key (the first archived column).

    Every archiving run not restored since is read; column archives (a key plus the retired
    column) merge into the rows of their source table.
    """
    exists = conn.execute("SELECT to_regclass('archive.manifest') IS NOT NULL").fetchone()[0]
    if not exists:
        return {}
    manifests = conn.execute(
        "SELECT id, source, archive_table FROM archive.manifest "
        "WHERE restored_at IS NULL ORDER BY id"
    ).fetchall()
    rows: Rows = {}
    for manifest_id, source, archive_table in manifests:
        schema, table = archive_table.split(".")
        cursor = conn.execute(
            sql.SQL("SELECT * FROM {}.{} WHERE _manifest_id = %s").format(
                sql.Identifier(schema), sql.Identifier(table)
            ),
            [manifest_id],
        )
        names = [column.name for column in cursor.description if column.name != "_manifest_id"]
        target = rows.setdefault(source.removeprefix("public."), {})
        for record in cursor:
            row = dict(zip(names, map(by_meaning, record), strict=False))
            target.setdefault(record[0], {}).update(row)
    return rows


def changed_rows(before: Rows, after: Rows, archived: Rows | None = None) -> list[str]:
    """Every value of ``before`` found neither in ``after`` nor in the archive, as sentences.

    A row or a column that a migration retired, or a value it replaced, must be in the
    archive with the same value; everything else must still be in place with the same
    meaning.
    """
    archived = archived or {}
    problems = []
    for table, table_rows in before.items():
        for key, row in table_rows.items():
            kept = after.get(table, {}).get(key, {})
            saved = archived.get(table, {}).get(key, {})
            if not kept and not saved:
                problems.append(f"{table} row {key!r} is missing and not archived")
                continue
            for column, value in row.items():
                found = [source[column] for source in (kept, saved) if column in source]
                if not found:
                    if value is not None and kept:
                        problems.append(
                            f"{table} row {key!r} column {column} was dropped unarchived"
                        )
                    continue  # else NULL in a retired column, or a row archived with others
                if not any(same_meaning(value, candidate) for candidate in found):
                    problems.append(
                        f"{table} row {key!r} column {column}: {value!r} became {found[0]!r}"
                    )
    return problems


def same_meaning(old: Any, new: Any) -> bool:
    """Equal, or an integer kept as its text (a soft reference that became text, R-10)."""
    if isinstance(old, int) and not isinstance(old, bool) and isinstance(new, str):
        return str(old) == new
    return old == new
