"""Read every row of the legacy tables by meaning, to prove that nothing was lost.

Only the production columns are read, so columns added later do not count; naive
timestamps are read as UTC and JSON is decoded, so a value whose type was modernised
(json to jsonb, timestamp to timestamptz) compares equal to its old self (TARGET_SCHEMA.md D10).
"""

import datetime
from typing import Any

from psycopg import sql

from database import baseline

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
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.UTC)
    return value


def changed_rows(before: Rows, after: Rows) -> list[str]:
    """Every row of ``before`` that is missing or different in ``after``, as sentences.

    A column that no longer exists in ``after`` is not compared here; retired data is
    checked against the archive instead.
    """
    problems = []
    for table, table_rows in before.items():
        if table not in after:
            continue
        for key, row in table_rows.items():
            kept = after[table].get(key)
            if kept is None:
                problems.append(f"{table} row {key!r} is missing")
                continue
            for column, value in row.items():
                if column in kept and kept[column] != value:
                    problems.append(
                        f"{table} row {key!r} column {column}: {value!r} became {kept[column]!r}"
                    )
    return problems
