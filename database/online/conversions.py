"""Online column type changes: json to jsonb, timestamp to timestamptz (R-8, R-9, D10) and more.

``ALTER COLUMN ... TYPE`` mostly rewrites the whole table under an ACCESS EXCLUSIVE lock. The
online path fills a shadow column of the new type (kept current by a trigger, backfilled in
batches) and swaps it in with catalog-only statements. For json to jsonb, rows whose JSON has
duplicate keys, which jsonb would collapse, are archived raw first (D10).

``timestamp`` to ``timestamptz`` needs no rewrite when the session time zone is UTC (the
stored values are read as UTC, D10), but PostgreSQL still rebuilds the column's indexes
under the lock; they are dropped and rebuilt concurrently around the type change instead.

Both operations resume after an interruption and need a migration with ``atomic = False``.
"""

from django.db import transaction
from psycopg import sql

from database.online import archive
from database.online.batches import DEFAULT_SCHEMA, Table, column_type
from database.online.ddl import (
    CreateIndex,
    DatabaseOnlyOperation,
    Fill,
    constraint_exists,
    drop_index,
    fetch_one,
    render,
    run_ddl,
)
from database.online.rewrite import rewrite_once

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


class ChangeColumnType(DatabaseOnlyOperation):
    """Change a column's type without rewriting the table under a lock.

    A shadow column of the new type is kept current by a trigger, backfilled in batches and
    swapped in with catalog-only statements. ``using`` is the conversion, an SQL expression
    in which ``{value}`` stands for the old value; ``reverse_type`` and ``reverse_using``
    convert back in place when migrating backwards. The column's indexes and constraints go
    with the old column: use it for columns that have none.
    """

    reduces_to_sql = False

    def __init__(
        self,
        table: str,
        column: str,
        type: str,
        reverse_type: str,
        using: str = "{value}::{type}",
        reverse_using: str = "{value}::{type}",
        default: str | None = None,
        schema: str = DEFAULT_SCHEMA,
    ):
        self.table, self.column, self.type, self.reverse_type = table, column, type, reverse_type
        self.using, self.reverse_using, self.default = using, reverse_using, default
        self.schema = schema

    @property
    def shadow(self) -> str:
        return f"{self.column}__new"[:63]

    def converted(self, value: str, *, backwards: bool = False) -> sql.Composable:
        using, type = (
            (self.reverse_using, self.reverse_type) if backwards else (self.using, self.type)
        )
        return sql.SQL(using.format(value=value, type=type))

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        rewrite_once(schema_editor, app_label, self.relation(to_state), [self])

    # The steps of database.online.rewrite, which may run them with other fills of the table.

    def pending(self, connection, table: Table) -> bool:
        return column_type(connection, table, self.column) != self.type

    def prepare(self, schema_editor, app_label: str, table: Table) -> None:
        """What must be kept first (``before_conversion``), then the shadow column."""
        self.before_conversion(schema_editor, app_label, table)
        run_ddl(
            schema_editor,
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                table.identifier, sql.Identifier(self.shadow), sql.SQL(self.type)
            ),
            table,
        )

    def trigger_assignment(self, connection) -> tuple[str, sql.Composable]:
        return self.shadow, self.converted(f"NEW.{self.quoted(connection)}")

    def fill(self, connection) -> Fill:
        shadow, column = sql.Identifier(self.shadow), sql.Identifier(self.column)
        condition = sql.SQL("{} IS NULL AND {} IS NOT NULL").format(shadow, column)
        expression = self.converted(self.quoted(connection)).as_string(connection.connection)
        return Fill(self.shadow, expression, condition)

    def swap(self, table: Table) -> list[sql.Composable]:
        column = sql.Identifier(self.column)
        statements = [
            sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(table.identifier, column),
            sql.SQL("ALTER TABLE {} RENAME COLUMN {} TO {}").format(
                table.identifier, sql.Identifier(self.shadow), column
            ),
        ]
        if self.default is not None:
            statements.append(self.set_default(self.type))
        return statements

    def quoted(self, connection) -> str:
        return render(sql.Identifier(self.column), connection)

    def before_conversion(self, schema_editor, app_label: str, target: Table) -> None:
        """A hook for what must be kept before values are converted (see the subclasses)."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        target = self.relation(to_state)
        table, column = target.identifier, sql.Identifier(self.column)
        reverse = self.converted(
            column.as_string(schema_editor.connection.connection), backwards=True
        )
        self.archive_unconvertible(schema_editor, app_label, reverse, target)
        statements = [
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(table, column),
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}").format(
                table, column, sql.SQL(self.reverse_type), reverse
            ),
        ]
        if self.default is not None:
            statements.append(self.set_default(self.reverse_type))
        run_ddl(schema_editor, sql.SQL("; ").join(statements), target)

    def archive_unconvertible(
        self, schema_editor, app_label: str, reverse: sql.Composable, target: Table
    ):
        """Archive the values that converting back would turn into NULL, if there are any."""
        connection = schema_editor.connection
        if schema_editor.collect_sql or column_type(connection, target, self.column) != self.type:
            return
        where = (
            sql.SQL("{} IS NOT NULL AND ({}) IS NULL")
            .format(sql.Identifier(self.column), reverse)
            .as_string(connection.connection)
        )
        exists = sql.SQL("SELECT EXISTS (SELECT FROM {} WHERE {})").format(
            target.identifier, sql.SQL(where)
        )
        if not fetch_one(connection, exists)[0]:
            return
        with transaction.atomic(using=connection.alias):
            archive.archive_rows(
                connection,
                source=target,
                archive_table=f"{self.table}__{self.column}__unconvertible"[:63],
                columns=[target.key, self.column],
                migration=f"{app_label}: {self.table}.{self.column} back to {self.reverse_type}",
                where=where,
            )

    def set_default(self, type: str) -> sql.Composable:
        return sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}::{}").format(
            self.relation().identifier,
            sql.Identifier(self.column),
            sql.Literal(self.default),
            sql.SQL(type),
        )

    def describe(self):
        using = self.using.format(value=self.column, type=self.type)
        return (
            f"Change {self.relation().label}.{self.column} to {self.type} (as {using}) online: "
            "a shadow "
            "column kept current by a trigger, backfilled in batches, swapped in by catalog "
            "changes"
        )


class ConvertJsonToJsonb(ChangeColumnType):
    """Turn a ``json`` column into ``jsonb``, archiving first what jsonb would change."""

    def __init__(
        self, table: str, column: str, default: str | None = None, schema: str = DEFAULT_SCHEMA
    ):
        super().__init__(
            table, column, "jsonb", reverse_type="json", default=default, schema=schema
        )

    def before_conversion(self, schema_editor, app_label: str, target: Table) -> None:
        """Keep the raw text of values that jsonb would change by collapsing keys."""
        archive_table = self.archive_table
        connection = schema_editor.connection
        archiving = {
            "source": target,
            "archive_table": archive_table,
            "columns": [target.key, self.column],
            "migration": f"{app_label}: {self.table}.{self.column} json to jsonb",
            "where": f"archive.json_has_duplicate_keys({self.column})",
        }
        if schema_editor.collect_sql:
            schema_editor.collected_sql.extend(
                [
                    "CREATE SCHEMA IF NOT EXISTS archive;",
                    f"{_DUPLICATE_KEYS_FUNCTION.strip()};",
                    f"-- once: skipped if archive.manifest has a row for archive.{archive_table}",
                    *archive.archive_statements(connection, **archiving),
                ]
            )
            return
        with transaction.atomic(using=connection.alias):
            archive.ensure_schema(connection)
            with connection.cursor() as cursor:
                cursor.execute(_DUPLICATE_KEYS_FUNCTION)
            if archive.latest_archive(connection, archive_table) is None:
                archive.archive_rows(connection, **archiving)

    @property
    def archive_table(self) -> str:
        return f"{self.table}__{self.column}__raw_json"[:63]

    def describe(self):
        return (
            f"Convert {self.relation().label}.{self.column} from json to jsonb online: values "
            f"with duplicate keys archived raw into archive.{self.archive_table} first, then a "
            "shadow column kept current by a trigger, backfilled in batches, swapped in by "
            "catalog changes"
        )


class ConvertToTimestamptz(DatabaseOnlyOperation):
    """Turn a naive ``timestamp`` column into ``timestamptz``, its values read as UTC."""

    def __init__(
        self,
        table: str,
        column: str,
        indexes: list[tuple[str, list[str]]] = (),
        schema: str = DEFAULT_SCHEMA,
    ):
        self.table, self.column, self.schema = table, column, schema
        self.indexes = [(name, list(columns)) for name, columns in indexes]

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.change_type(schema_editor, "timestamp with time zone")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self.change_type(schema_editor, "timestamp without time zone")

    def change_type(self, schema_editor, target: str) -> None:
        connection = schema_editor.connection
        table = self.relation()
        if schema_editor.collect_sql or column_type(connection, table, self.column) != target:
            for name, _ in self.indexes:
                drop_index(schema_editor, table, name)
            run_ddl(
                schema_editor,
                sql.SQL(
                    "SET LOCAL TimeZone = 'UTC'; ALTER TABLE {} ALTER COLUMN {} TYPE {}"
                ).format(table.identifier, sql.Identifier(self.column), sql.SQL(target)),
                table,
            )
        for name, columns in self.indexes:
            CreateIndex(self.table, name, columns, self.schema).build(schema_editor)

    def describe(self):
        indexes = (
            f"; its indexes {', '.join(name for name, _ in self.indexes)} dropped and rebuilt "
            "concurrently around it"
            if self.indexes
            else ""
        )
        return (
            f"Convert {self.relation().label}.{self.column} to timestamptz, values read as UTC (a "
            f"catalog change, no rewrite){indexes}"
        )


class RetypeDanglingColumns(DatabaseOnlyOperation):
    """Give reference columns whose values point at nothing a new type, archiving the values.

    For references to tables that did not exist (TARGET_SCHEMA.md R-5, R-10): a
    ``CHECK (... IS NULL) NOT VALID`` stops new values arriving, the existing ones are archived
    and cleared in one transaction, the check is validated while writes go on (proving the
    columns empty), and the empty columns are dropped and added again with the new type.
    Only catalog changes take the ACCESS EXCLUSIVE lock. Backwards does the reverse, archiving
    any value the new columns received before they go, and restores the archived values.
    """

    reduces_to_sql = False

    def __init__(
        self,
        table: str,
        columns: list[str],
        type: str,
        previous_type: str,
        archive_table: str,
        migration: str,
        schema: str = DEFAULT_SCHEMA,
    ):
        self.table, self.columns = table, list(columns)
        self.type, self.previous_type = type, previous_type
        self.archive_table, self.migration, self.schema = archive_table, migration, schema

    @property
    def check_name(self) -> str:
        return f"{self.table}_{'_'.join(self.columns)}_cleared"[:63]

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.retype(schema_editor, self.relation(to_state), self.type, self.archive_table)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        target = self.relation(to_state)
        after = f"{self.archive_table}__after"[:63]
        self.retype(schema_editor, target, self.previous_type, after)
        if not schema_editor.collect_sql:
            restore_if_archived(schema_editor.connection, self.archive_table, target, self.columns)

    def retype(self, schema_editor, target: Table, type: str, archive_table: str) -> None:
        connection = schema_editor.connection
        if not schema_editor.collect_sql and all(
            column_type(connection, target, column) == type for column in self.columns
        ):
            return
        table, check = target.identifier, sql.Identifier(self.check_name)
        if schema_editor.collect_sql or not constraint_exists(connection, target, self.check_name):
            run_ddl(
                schema_editor,
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK ({}) NOT VALID").format(
                    table, check, self.condition("IS NULL", " AND ")
                ),
                target,
            )
        self.archive_and_clear(schema_editor, target, archive_table)
        run_ddl(
            schema_editor,
            sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(table, check),
            target,
        )
        replace = [
            sql.SQL("DROP COLUMN {}").format(sql.Identifier(column)) for column in self.columns
        ] + [
            sql.SQL("ADD COLUMN {} {}").format(sql.Identifier(column), sql.SQL(type))
            for column in self.columns
        ]
        run_ddl(
            schema_editor,
            sql.SQL("ALTER TABLE {} ").format(table) + sql.SQL(", ").join(replace),
            target,
        )

    def condition(self, test: str, joiner: str) -> sql.Composable:
        return sql.SQL(joiner).join(
            sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(test))
            for column in self.columns
        )

    def archive_and_clear(self, schema_editor, target: Table, archive_table: str) -> None:
        where = self.condition("IS NOT NULL", " OR ")
        clear = sql.SQL("UPDATE {} SET {} WHERE {}").format(
            target.identifier,
            sql.SQL(", ").join(
                sql.SQL("{} = NULL").format(sql.Identifier(column)) for column in self.columns
            ),
            where,
        )
        archive_then_update(
            schema_editor, target, self.columns, where, clear, archive_table, self.migration
        )

    def describe(self):
        columns = ", ".join(f"{self.relation().label}.{column}" for column in self.columns)
        return (
            f"Make {columns} {self.type}: a CHECK (... IS NULL) NOT VALID stops new values, "
            f"the values are archived into archive.{self.archive_table} and cleared in one "
            "transaction, the CHECK is validated while writes go on, then the empty columns "
            "are dropped and added again (catalog changes only)"
        )


class ArchiveAndFill(DatabaseOnlyOperation):
    """Give a column's NULLs a value, archiving which rows were NULL (before ``SET NOT NULL``).

    The rows are archived and filled in one transaction, which takes row locks only.
    Backwards puts the NULLs back from the archive.
    """

    reduces_to_sql = False

    def __init__(
        self,
        table: str,
        column: str,
        value: str,
        archive_table: str,
        migration: str,
        schema: str = DEFAULT_SCHEMA,
    ):
        self.table, self.column, self.value = table, column, value
        self.archive_table, self.migration, self.schema = archive_table, migration, schema

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        target = self.relation(to_state)
        column = sql.Identifier(self.column)
        where = sql.SQL("{} IS NULL").format(column)
        fill = sql.SQL("UPDATE {} SET {} = {} WHERE {}").format(
            target.identifier, column, sql.SQL(self.value), where
        )
        archive_then_update(
            schema_editor,
            target,
            [self.column],
            where,
            fill,
            self.archive_table,
            self.migration,
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if not schema_editor.collect_sql:
            connection, target = schema_editor.connection, self.relation(to_state)
            restore_if_archived(connection, self.archive_table, target, [self.column])

    def describe(self):
        return (
            f"Archive the rows of {self.relation().label} where {self.column} IS NULL into "
            f"archive.{self.archive_table}, then set {self.column} = {self.value} in them "
            "(one transaction, row locks only)"
        )


def archive_then_update(
    schema_editor,
    table: Table,
    columns: list[str],
    where: sql.Composable,
    update: sql.Composable,
    archive_table: str,
    migration: str,
) -> None:
    """Archive the key and ``columns`` of the rows matching ``where``, then run ``update``.

    One transaction, so a value written by a concurrent session is either archived and
    updated, or neither; only row locks are taken.
    """
    connection = schema_editor.connection
    connection.ensure_connection()
    condition = where.as_string(connection.connection)
    with transaction.atomic(using=connection.alias):
        archive.archive_in(
            schema_editor,
            source=table,
            archive_table=archive_table,
            columns=[table.key, *columns],
            migration=migration,
            where=condition,
        )
        if schema_editor.collect_sql:
            schema_editor.collected_sql.append("-- then, in the same transaction:")
            schema_editor.collected_sql.append(f"{update.as_string(connection.connection)};")
            return
        with connection.cursor() as cursor:
            cursor.execute(update)


def restore_if_archived(connection, archive_table: str, table: Table, columns: list[str]) -> None:
    """Put the values of every unrestored archiving run into ``archive_table`` back into
    ``table`` by its key, in one transaction; nothing when there is none."""
    if not archive.unrestored_archives(connection, archive_table, required=False):
        return
    with transaction.atomic(using=connection.alias):
        archive.restore_column(
            connection, archive_table=archive_table, target=table, columns=columns
        )
