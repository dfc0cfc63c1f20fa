"""Online column type modernisation: json to jsonb, timestamp to timestamptz (R-8, R-9, D10).

``ALTER COLUMN ... TYPE jsonb`` rewrites the whole table under an ACCESS EXCLUSIVE lock. The
online path fills a shadow ``jsonb`` column (kept current by a trigger, backfilled in
batches) and swaps it in with catalog-only statements. Rows whose JSON has duplicate keys,
which jsonb would collapse, are archived raw first (D10).

``timestamp`` to ``timestamptz`` needs no rewrite when the session time zone is UTC (the
stored values are read as UTC, D10), but PostgreSQL still rebuilds the column's indexes
under the lock; they are dropped and rebuilt concurrently around the type change instead.

Both operations resume after an interruption and need a migration with ``atomic = False``.
"""

from django.db import transaction
from psycopg import sql

from database import archive
from database.online import (
    CreateIndex,
    DatabaseOnlyOperation,
    _fetch_one,
    backfill,
    drop_index,
    run_ddl,
)

_DUPLICATE_KEYS_FUNCTION = """
CREATE OR REPLACE FUNCTION archive.json_has_duplicate_keys(value json) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF json_typeof(value) = 'object' THEN
        RETURN (SELECT count(*) <> count(DISTINCT key) FROM json_object_keys(value) AS key)
            OR EXISTS (SELECT FROM json_each(value) AS e
                       WHERE archive.json_has_duplicate_keys(e.value));
    ELSIF json_typeof(value) = 'array' THEN
        RETURN EXISTS (SELECT FROM json_array_elements(value) AS e
                       WHERE archive.json_has_duplicate_keys(e));
    END IF;
    RETURN false;
END
$$
"""


def column_type(connection, table: str, column: str) -> str | None:
    row = _fetch_one(
        connection,
        "SELECT format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped",
        [f"public.{table}", column],
    )
    return row[0] if row else None


class ConvertJsonToJsonb(DatabaseOnlyOperation):
    """Turn a ``json`` column into ``jsonb`` without rewriting the table under a lock."""

    reduces_to_sql = False

    def __init__(self, table: str, column: str, default: str | None = None):
        self.table, self.column, self.default = table, column, default

    @property
    def shadow(self) -> str:
        return f"{self.column}__jsonb"

    @property
    def sync_function(self) -> str:
        return f"{self.table}__{self.column}__to_jsonb"[:63]

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        collecting = schema_editor.collect_sql
        if not collecting and column_type(connection, self.table, self.column) == "jsonb":
            return
        self.archive_duplicate_keys(schema_editor, app_label)
        table, shadow = sql.Identifier(self.table), sql.Identifier(self.shadow)
        column, function = sql.Identifier(self.column), sql.Identifier(self.sync_function)
        run_ddl(
            schema_editor,
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} jsonb").format(table, shadow),
        )
        run_ddl(
            schema_editor,
            sql.SQL(
                "CREATE OR REPLACE FUNCTION public.{function}() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN NEW.{shadow} := NEW.{column}::jsonb; "
                "RETURN NEW; END $$"
            ).format(function=function, shadow=shadow, column=column),
        )
        run_ddl(
            schema_editor,
            sql.SQL(
                "CREATE OR REPLACE TRIGGER {function} BEFORE INSERT OR UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION public.{function}()"
            ).format(function=function, table=table),
        )
        expression = f"{self.column}::jsonb"
        only = f"{self.column} IS NOT NULL"
        if collecting:
            schema_editor.collected_sql.append(
                f"-- in batches of primary keys, one transaction each, resumable:\n"
                f"UPDATE {self.table} SET {self.shadow} = {expression} WHERE <batch> "
                f"AND {self.shadow} IS NULL AND {only};"
            )
        else:
            backfill(connection, self.table, self.shadow, expression, only=only)
        swap = [
            sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(table),
            sql.SQL("DROP TRIGGER {} ON {}").format(function, table),
            sql.SQL("DROP FUNCTION public.{}()").format(function),
            sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(table, column),
            sql.SQL("ALTER TABLE {} RENAME COLUMN {} TO {}").format(table, shadow, column),
        ]
        if self.default is not None:
            swap.append(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                    table, column, sql.Literal(self.default)
                )
                + sql.SQL("::jsonb")
            )
        run_ddl(schema_editor, sql.SQL("; ").join(swap))

    def archive_duplicate_keys(self, schema_editor, app_label: str) -> None:
        """Keep the raw text of values that jsonb would change by collapsing keys."""
        archive_table = f"{self.table}__{self.column}__raw_json"[:63]
        connection = schema_editor.connection
        if schema_editor.collect_sql:
            schema_editor.collected_sql.append(
                f"-- archive raw json of {self.table}.{self.column} where keys repeat, into "
                f"archive.{archive_table}"
            )
            return
        with transaction.atomic(using=connection.alias):
            archive.ensure_schema(connection)
            with connection.cursor() as cursor:
                cursor.execute(_DUPLICATE_KEYS_FUNCTION)
            if archive.latest_archive(connection, archive_table) is None:
                archive.archive_rows(
                    connection,
                    source_table=self.table,
                    archive_table=archive_table,
                    columns=["id", self.column],
                    migration=f"{app_label}: {self.table}.{self.column} json to jsonb",
                    where=f"archive.json_has_duplicate_keys({self.column})",
                )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        table, column = sql.Identifier(self.table), sql.Identifier(self.column)
        statements = [
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(table, column),
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE json USING {}::json").format(
                table, column, column
            ),
        ]
        if self.default is not None:
            statements.append(
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                    table, column, sql.Literal(self.default)
                )
                + sql.SQL("::json")
            )
        run_ddl(schema_editor, sql.SQL("; ").join(statements))

    def describe(self):
        return f"Convert {self.table}.{self.column} from json to jsonb online"


class ConvertToTimestamptz(DatabaseOnlyOperation):
    """Turn a naive ``timestamp`` column into ``timestamptz``, its values read as UTC."""

    def __init__(self, table: str, column: str, indexes: list[tuple[str, list[str]]] = ()):
        self.table, self.column = table, column
        self.indexes = [(name, list(columns)) for name, columns in indexes]

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.change_type(schema_editor, "timestamp with time zone")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self.change_type(schema_editor, "timestamp without time zone")

    def change_type(self, schema_editor, target: str) -> None:
        connection = schema_editor.connection
        if schema_editor.collect_sql or column_type(connection, self.table, self.column) != target:
            for name, _ in self.indexes:
                drop_index(schema_editor, name)
            run_ddl(
                schema_editor,
                sql.SQL(
                    "SET LOCAL TimeZone = 'UTC'; ALTER TABLE {} ALTER COLUMN {} TYPE {}"
                ).format(sql.Identifier(self.table), sql.Identifier(self.column), sql.SQL(target)),
            )
        for name, columns in self.indexes:
            CreateIndex(self.table, name, columns).database_forwards("", schema_editor, None, None)

    def describe(self):
        return f"Convert {self.table}.{self.column} to timestamptz (values read as UTC)"
