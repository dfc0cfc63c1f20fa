"""Online schema changes for big, busy tables: written once, used by every migration.

Each operation here changes the database only, given raw table and column names: the
steps that the state-reading operations of ``database.online.recipes`` (Django's own, made online)
put together, and the changes the migration state cannot express, paired with state
operations through ``SeparateDatabaseAndState``. Each is safe to re-run after
an interruption: every step first looks at what is already there. Every DDL statement runs
under a ``lock_timeout`` and is retried, so a migration queues behind a long transaction for
seconds, not for ever, and never holds an ACCESS EXCLUSIVE lock for longer than a catalog
change. The operations that build indexes concurrently or backfill in batches must live in
a migration with ``atomic = False``.

Under ``sqlmigrate`` the operations print the statements they would run, batches included.
"""

import time
from dataclasses import dataclass

from django.db import migrations, models
from django.db.migrations.operations.base import Operation
from psycopg import sql

from database.online import batches
from database.online.batches import (
    DEFAULT_SCHEMA,
    LOCK_TIMEOUT,
    NeedsNonAtomicMigration,
    Table,
    table_in_state,
)
from database.online.operations import SeparateDatabaseAndState, quote
from database.pooler import session_lock_timeout

BATCH_SIZE = 10_000
VACUUM_EVERY = 1_000_000


def render(statement: sql.Composable | str, connection) -> str:
    """``statement`` as the text the server receives (a string is already that)."""
    if isinstance(statement, str):
        return statement
    connection.ensure_connection()
    return statement.as_string(connection.connection)


def run_ddl(schema_editor, statement, *tables: Table, concurrently: bool = False) -> None:
    """Run one DDL statement under a lock timeout, retrying when the lock is busy.

    ``tables`` are the existing tables it locks: a vacuum of one of them is waited out first,
    without queueing the application behind the statement (``batches.in_transaction``).

    ``concurrently`` statements (``CREATE/DROP INDEX CONCURRENTLY``) cannot run inside a
    transaction block, so they get a session-level timeout instead of ``SET LOCAL`` (none
    through a transaction pooler: ``database.pooler.session_lock_timeout``).
    """
    connection = schema_editor.connection
    text = render(statement, connection)
    if schema_editor.collect_sql:
        schema_editor.collected_sql.append(f"{text};")
        return
    if not concurrently:
        batches.in_transaction(
            connection, lambda cursor: cursor.execute(text), text, ddl=True, tables=tables
        )
        return
    if connection.in_atomic_block:
        raise NeedsNonAtomicMigration(f"'{text}' must run in a migration with atomic = False.")
    # SHARE UPDATE EXCLUSIVE, which the application's reads and writes never queue behind.
    batches.with_lock_retries(
        connection, lambda number: _run_outside_transaction(connection, text), text
    )


def _run_outside_transaction(connection, text: str) -> None:
    with connection.cursor() as cursor, session_lock_timeout(connection, cursor, LOCK_TIMEOUT):
        cursor.execute(text)


def fetch_one(connection, query, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()


def fetch_all(connection, query, params=None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def regclass(connection, relation: sql.Identifier) -> str:
    """``relation`` as ``to_regclass()`` reads it (quoted, schema-qualified)."""
    return render(relation, connection)


def column_names(connection, table: Table) -> list[str]:
    """The table's columns in their order."""
    rows = fetch_all(
        connection,
        "SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [regclass(connection, table.identifier)],
    )
    return [name for (name,) in rows]


def index_state(connection, table: Table, name: str) -> str | None:
    """``'valid'``, ``'invalid'`` (an interrupted concurrent build) or None (absent); an index
    lives in its table's schema."""
    row = fetch_one(
        connection,
        "SELECT x.indisvalid FROM pg_catalog.pg_index x WHERE x.indexrelid = to_regclass(%s)",
        [regclass(connection, table.qualified(name))],
    )
    if row is None:
        return None
    return "valid" if row[0] else "invalid"


def constraint_exists(connection, table: Table, name: str) -> bool:
    return (
        fetch_one(
            connection,
            "SELECT 1 FROM pg_catalog.pg_constraint "
            "WHERE conrelid = to_regclass(%s) AND conname = %s",
            [regclass(connection, table.identifier), name],
        )
        is not None
    )


def ensure_index(schema_editor, table: Table, name: str, create: sql.Composable) -> None:
    """Build an index concurrently unless a valid one exists; rebuild an invalid one."""
    connection = schema_editor.connection
    if not schema_editor.collect_sql:
        state = index_state(connection, table, name)
        if state == "valid":
            return
        if state == "invalid":
            drop_index(schema_editor, table, name)
    run_ddl(schema_editor, create, concurrently=True)


def drop_constraint(schema_editor, table: Table, name: str) -> None:
    statement = sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(
        table.identifier, sql.Identifier(name)
    )
    run_ddl(schema_editor, statement, table)


def drop_index(schema_editor, table: Table, name: str) -> None:
    statement = sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(table.qualified(name))
    run_ddl(schema_editor, statement, concurrently=True)


class DatabaseOnlyOperation(Operation):
    """An operation that changes the database only; the migration state is left alone.

    The operations on a table take its name and ``schema``; ``relation(state)`` is that table
    with the key column its model has in the migration state.
    """

    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def deconstruct(self):
        return (self.__class__.__qualname__, [], self.__dict__.copy())

    def relation(self, state=None) -> Table:
        return table_in_state(state, self.table, self.schema)


class AddColumn(DatabaseOnlyOperation):
    """Add a nullable column, then give it a database default for rows inserted from now on.

    Both steps are catalog changes: no table rewrite, even for a volatile default.
    """

    def __init__(
        self,
        table: str,
        column: str,
        type: str,
        default: str | None = None,
        schema: str = DEFAULT_SCHEMA,
    ):
        self.table, self.column, self.type, self.default = table, column, type, default
        self.schema = schema

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        relation = self.relation()
        table, column = relation.identifier, sql.Identifier(self.column)
        run_ddl(
            schema_editor,
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                table, column, sql.SQL(self.type)
            ),
            relation,
        )
        if self.default is not None:
            run_ddl(
                schema_editor,
                sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                    table, column, sql.SQL(self.default)
                ),
                relation,
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        relation = self.relation()
        run_ddl(
            schema_editor,
            sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}").format(
                relation.identifier, sql.Identifier(self.column)
            ),
            relation,
        )

    def describe(self):
        default = f", default {self.default} for new rows" if self.default is not None else ""
        return (
            f"Add column {self.relation().label}.{self.column} {self.type}, nullable{default} "
            "(catalog changes only, online)"
        )


@dataclass(frozen=True)
class Fill:
    """``column = expression`` for the rows matching ``condition`` (SQL text, about one row)."""

    column: str
    expression: str
    condition: sql.Composable

    @classmethod
    def where_null(cls, column: str, expression: str, only: str | None = None) -> "Fill":
        """Fill ``column``'s NULLs (of the rows matching ``only``, when given)."""
        condition = sql.SQL("{} IS NULL").format(sql.Identifier(column))
        if only:
            condition = sql.SQL("{} AND ({})").format(condition, sql.SQL(only))
        return cls(column, expression, condition)

    def assignment(self, *, alone: bool) -> sql.Composable:
        """``SET`` of this column; among others, a row that needs only them keeps its value."""
        column = sql.Identifier(self.column)
        if alone:
            return sql.SQL("{} = {}").format(column, sql.SQL(self.expression))
        return sql.SQL("{c} = CASE WHEN {w} THEN {e} ELSE {c} END").format(
            c=column, w=self.condition, e=sql.SQL(self.expression)
        )


def fill_statement(table: batches.Table, fills: list[Fill], key_range) -> sql.Composable:
    """One UPDATE of a key range setting every column of ``fills`` on the rows needing any."""
    alone = len(fills) == 1
    return sql.SQL("UPDATE {t} SET {assignments} WHERE {range} AND ({where})").format(
        t=table.identifier,
        assignments=sql.SQL(", ").join(fill.assignment(alone=alone) for fill in fills),
        range=key_range,
        where=sql.SQL(" OR ").join(fill.condition for fill in fills),
    )


def backfill(
    connection,
    target: Table,
    column: str,
    expression: str,
    *,
    only: str | None = None,
    batch_size: int = BATCH_SIZE,
    pause: float = 0.0,
    vacuum_every: int = VACUUM_EVERY,
    progress: batches.Progress | None = None,
) -> int:
    """Set ``column = expression`` where it is NULL, in key order, one commit a batch.

    Resumable and idempotent: only NULLs are written (and only rows matching the SQL
    condition ``only``, when given), so a re-run after an interruption continues where it
    stopped and a finished backfill does nothing. Rows inserted while it runs take the
    column's database default (or a trigger's value). Returns the number of rows written.
    """
    return fill_in_batches(
        connection,
        target,
        [Fill.where_null(column, expression, only)],
        batch_size=batch_size,
        pause=pause,
        vacuum_every=vacuum_every,
        progress=progress,
    )


def fill_in_batches(
    connection,
    table: batches.Table,
    fills: list[Fill],
    *,
    batch_size: int = BATCH_SIZE,
    pause: float = 0.0,
    vacuum_every: int = VACUUM_EVERY,
    progress: batches.Progress | None = None,
) -> int:
    """Every ``fill`` in one pass over ``table``: one UPDATE a key range writes each row that
    needs any of them once, one commit a batch. Resumable and idempotent like ``backfill``
    (a row is written only while one of its conditions holds). Returns the rows written."""
    progress = batches.progress_callback(progress)
    columns = ", ".join(fill.column for fill in fills)
    name = f"{table.label}.{columns}" if len(fills) == 1 else f"{table.label} ({columns})"

    def write(cursor, key_range: batches.KeyRange) -> int:
        cursor.execute(BATCH_SETTINGS)
        statement = fill_statement(table, fills, key_range.condition(table))
        cursor.execute(statement.as_string(cursor.connection))
        return cursor.rowcount

    written = since_vacuum = count = 0
    estimate = estimated_rows(connection, table)
    started = last_report = time.monotonic()
    for _, rows in batches.each_batch(
        connection,
        table,
        write,
        batch_size=batch_size,
        throttle=batches.throttling(connection, pause, progress),
        statement=render(fill_statement(table, fills, _any_batch(table)), connection),
    ):
        written, since_vacuum, count = written + rows, since_vacuum + rows, count + 1
        if since_vacuum >= vacuum_every > 0 and reusable(
            estimate, count * batch_size, vacuum_every
        ):
            _vacuum(connection, table)
            since_vacuum = 0
        now = time.monotonic()
        if now - last_report >= 5:
            rate = written / max(now - started, 1e-9)
            progress(f"  {name}: {count} batches, {written} rows ({rate:,.0f}/s)")
            last_report = now
    progress(f"  {name}: done, {written} rows written in {count} batches")
    return written


def printed_fills(
    connection, table: batches.Table, fills: list[Fill], batch_size: int = BATCH_SIZE
) -> str:
    """``fill_in_batches`` as ``sqlmigrate`` prints it: the batch statement once, its key
    range as placeholders."""
    statement = render(fill_statement(table, fills, _any_batch(table)), connection)
    return (
        f"-- in batches of {batch_size:,} keys of {table.key}, one transaction each, "
        f"resumable; each row written once:\n{statement};"
    )


def _any_batch(table: batches.Table) -> sql.Composable:
    return sql.SQL("{key} > <previous batch end> AND {key} <= <batch end>").format(
        key=table.key_identifier
    )


# For a fill's batch transaction. A batch's commit need not wait for its WAL flush: a batch
# lost to a crash is written again by the re-run (its rows still need it), and the next step's
# own commit flushes every batch before it; at 5M rows (PostgreSQL 15) the batches spent 5.3 s
# outside their UPDATEs with a flush per commit, 1.9 s without. (Forcing bitmap scans of the key
# range as well cost the 100k-user bench 0.82x against 0.96x for content_logs' pass.)
BATCH_SETTINGS = "SELECT set_config('synchronous_commit', 'off', true)"


def estimated_rows(connection, table: batches.Table) -> int | None:
    """The planner's estimate of the table's rows (``pg_class.reltuples``); None when the
    table has never been vacuumed or analysed."""
    row = fetch_one(
        connection,
        "SELECT reltuples::bigint FROM pg_catalog.pg_class WHERE oid = to_regclass(%s)",
        [regclass(connection, table.identifier)],
    )
    return row[0] if row and row[0] >= 0 else None


def reusable(estimate: int | None, walked: int, vacuum_every: int) -> bool:
    """Whether the keys still ahead of the pass (by the planner's ``estimate``, ``walked``
    keys behind it) are enough to reuse the space a vacuum would free: at least half of
    ``vacuum_every``. A vacuum at the end of a pass scans every page rewritten since the last
    one and frees space no batch will use; autovacuum reclaims it after the migration. (At 5M
    rows of content_logs, PostgreSQL 15: five vacuums took 4.0-7.7 s of the pass, the fifth
    with 6 rows left; notifications' only one, at 1M rows, had 4 left.)"""
    return estimate is None or estimate - walked >= vacuum_every // 2


def _vacuum(connection, table: batches.Table) -> None:
    """Make the space of the versions the pass left behind reusable by its next batches.

    Without index cleanup: the dead heap tuples are pruned and their pages put in the free
    space map, which is what the next batches need; scanning every index of a big table each
    time would cost more than the batches themselves. The line pointers stay until
    autovacuum cleans the indexes, so somewhat less space is reused than by a full VACUUM
    (on PostgreSQL 15, 20,000 rows rewritten: 1.39 MB against 1.14 MB, 1.89 MB without).
    Nor the TOAST table: a pass leaves no dead values there (a value it does not change is
    shared by both versions of the row), so scanning its new pages is wasted. Nor the
    truncation of empty pages at the end, which takes an ACCESS EXCLUSIVE lock; the next
    batches fill those pages anyway.
    """
    statement = sql.SQL("VACUUM (INDEX_CLEANUP OFF, PROCESS_TOAST OFF, TRUNCATE OFF) {}").format(
        table.identifier
    )
    with connection.cursor() as cursor:
        cursor.execute(render(statement, connection))


class Backfill(DatabaseOnlyOperation):
    """Fill a column's NULLs in batches (see ``backfill``); needs ``atomic = False``.

    The batches follow the table's key column as the migration state has it (``id`` for a
    table the state does not know), in ``schema``.
    """

    reduces_to_sql = False

    def __init__(
        self,
        table: str,
        column: str,
        expression: str,
        only: str | None = None,
        batch_size: int = BATCH_SIZE,
        schema: str = DEFAULT_SCHEMA,
    ):
        self.table, self.column, self.expression = table, column, expression
        self.only, self.batch_size, self.schema = only, batch_size, schema

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        target = self.relation(to_state)
        connection = schema_editor.connection
        if schema_editor.collect_sql:
            schema_editor.collected_sql.append(
                printed_fills(connection, target, [self.fill(connection)], self.batch_size)
            )
            return
        backfill(
            schema_editor.connection,
            target,
            self.column,
            self.expression,
            only=self.only,
            batch_size=self.batch_size,
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass  # The column's own removal undoes the backfill.

    # As a step of database.online.rewrite, which may run it with other fills of the table.

    def pending(self, connection, table: Table) -> bool:
        return True  # Cheap to find out by running it: it writes only the rows that need it.

    def prepare(self, schema_editor, app_label: str, table: Table) -> None:
        pass

    def fill(self, connection) -> Fill:
        return Fill.where_null(self.column, self.expression, self.only)

    def describe(self):
        only = f" and ({self.only})" if self.only else ""
        return (
            f"Fill {self.relation().label}.{self.column} with {self.expression} where it is "
            f"NULL{only}, "
            f"in primary-key batches of {self.batch_size:,} rows, one transaction each "
            "(online, resumable)"
        )


class AddUniqueConstraint(DatabaseOnlyOperation):
    """Build a unique index concurrently, then attach it as a constraint (a catalog change)."""

    def __init__(self, table: str, name: str, columns: list[str], schema: str = DEFAULT_SCHEMA):
        self.table, self.name, self.columns, self.schema = table, name, list(columns), schema

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        table = self.relation()
        create = sql.SQL("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({})").format(
            sql.Identifier(self.name),
            table.identifier,
            sql.SQL(", ").join(map(sql.Identifier, self.columns)),
        )
        ensure_index(schema_editor, table, self.name, create)
        if schema_editor.collect_sql or not constraint_exists(
            schema_editor.connection, table, self.name
        ):
            run_ddl(
                schema_editor,
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} UNIQUE USING INDEX {}").format(
                    table.identifier, sql.Identifier(self.name), sql.Identifier(self.name)
                ),
                table,
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        drop_constraint(schema_editor, self.relation(), self.name)

    def describe(self):
        return (
            f"Build unique index {self.name} on {self.relation().label} "
            f"({', '.join(self.columns)}) concurrently, then attach it as a constraint (online)"
        )


class Undo:
    """Mixed into an operation: its backwards becomes forwards, and its forwards backwards."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        super().database_backwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        super().database_forwards(app_label, schema_editor, from_state, to_state)


class DropUniqueConstraint(Undo, AddUniqueConstraint):
    """Drop a unique constraint (and its index); reverse rebuilds it concurrently."""

    def describe(self):
        return (
            f"Drop unique constraint {self.name} of {self.relation().label} and its index "
            "(catalog change under the growing DDL lock timeout)"
        )


class SetNotNull(DatabaseOnlyOperation):
    """``SET NOT NULL`` without a long scan under ACCESS EXCLUSIVE.

    A ``CHECK (column IS NOT NULL) NOT VALID`` is added, validated while writes go on, and
    then lets PostgreSQL set NOT NULL without scanning; the helper check is dropped.
    """

    def __init__(self, table: str, column: str, schema: str = DEFAULT_SCHEMA):
        self.table, self.column, self.schema = table, column, schema

    @property
    def check_name(self) -> str:
        return f"{self.table}_{self.column}_not_null"[:63]

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        target = self.relation()
        table, column = target.identifier, sql.Identifier(self.column)
        check = sql.Identifier(self.check_name)
        if schema_editor.collect_sql or not constraint_exists(
            schema_editor.connection, target, self.check_name
        ):
            run_ddl(
                schema_editor,
                sql.SQL(
                    "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID"
                ).format(table, check, column),
                target,
            )
        run_ddl(
            schema_editor,
            sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(table, check),
            target,
        )
        run_ddl(
            schema_editor,
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL").format(table, column),
            target,
        )
        drop_constraint(schema_editor, target, self.check_name)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        target = self.relation()
        run_ddl(
            schema_editor,
            sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL").format(
                target.identifier, sql.Identifier(self.column)
            ),
            target,
        )

    def describe(self):
        return (
            f"Make {self.relation().label}.{self.column} NOT NULL: a CHECK added NOT VALID, "
            "validated while writes go on, then SET NOT NULL without a scan (online)"
        )


class CreateIndex(DatabaseOnlyOperation):
    """``CREATE INDEX CONCURRENTLY``, rebuilding an invalid leftover; reverse drops it."""

    def __init__(self, table: str, name: str, columns: list[str], schema: str = DEFAULT_SCHEMA):
        self.table, self.name, self.columns, self.schema = table, name, list(columns), schema

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.build(schema_editor)

    def build(self, schema_editor) -> None:
        table = self.relation()
        create = sql.SQL("CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} ({})").format(
            sql.Identifier(self.name),
            table.identifier,
            sql.SQL(", ").join(map(sql.Identifier, self.columns)),
        )
        ensure_index(schema_editor, table, self.name, create)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        drop_index(schema_editor, self.relation(), self.name)

    def describe(self):
        return (
            f"Create index {self.name} on {self.relation().label} ({', '.join(self.columns)}) "
            "concurrently (online)"
        )


def add_public_id(model_name: str, table: str) -> list[Operation]:
    """The online recipe for ``public_id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid()``.

    Nullable add, database default for new rows, batched backfill, unique index built
    concurrently and attached as ``<table>_public_id_key``, NOT NULL through a validated
    CHECK. The migration state gets the final field and constraint at once.
    """
    from django.contrib.postgres.functions import RandomUUID

    constraint = f"{table}_public_id_key"
    field = models.UUIDField(db_default=RandomUUID(), editable=False)
    return [
        SeparateDatabaseAndState(
            database_operations=[
                AddColumn(table, "public_id", "uuid", default="gen_random_uuid()"),
                Backfill(table, "public_id", "gen_random_uuid()"),
                AddUniqueConstraint(table, constraint, ["public_id"]),
                SetNotNull(table, "public_id"),
            ],
            state_operations=[
                migrations.AddField(model_name, "public_id", field),
                migrations.AddConstraint(
                    model_name,
                    models.UniqueConstraint(fields=["public_id"], name=constraint),
                ),
            ],
        )
    ]


class RunDDL(DatabaseOnlyOperation):
    """Plain DDL statements, each under the lock timeout with retries; reversible.

    ``tables``: the existing tables the statements lock, whose vacuums are waited out first
    (``run_ddl``).
    """

    def __init__(
        self,
        statements: list[str],
        reverse_statements: list[str] | None = None,
        tables: list[str] = (),
        schema: str = DEFAULT_SCHEMA,
    ):
        self.statements = list(statements)
        self.reverse_statements = reverse_statements
        self.tables, self.schema = list(tables), schema

    @property
    def reversible(self):
        return self.reverse_statements is not None

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for statement in self.statements:
            run_ddl(schema_editor, statement, *self.locked())

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for statement in self.reverse_statements or []:
            run_ddl(schema_editor, statement, *self.locked())

    def locked(self) -> list[Table]:
        return [Table(name, schema=self.schema) for name in self.tables]

    def describe(self):
        statements = "; ".join(quote(statement) for statement in self.statements)
        return f"Run under the growing DDL lock timeout, retried: {statements}"


_DELETE_RULES = {"NO ACTION": "a", "RESTRICT": "r", "CASCADE": "c", "SET NULL": "n"}


class AddForeignKey(DatabaseOnlyOperation):
    """Add a foreign key ``NOT VALID`` (a catalog change), then validate it as writes go on.

    ``target`` is a table of the same schema; ``target_column`` its primary key as the
    migration state has it unless given.
    """

    def __init__(
        self,
        table: str,
        name: str,
        column: str,
        target: str,
        rule: str,
        target_column: str | None = None,
        schema: str = DEFAULT_SCHEMA,
    ):
        self.table, self.name, self.column = table, name, column
        self.target, self.rule, self.target_column = target, rule, target_column
        self.schema = schema

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.add(schema_editor, to_state)

    def referenced(self, state) -> Table:
        """The referenced table, keyed by ``target_column`` or its model's primary key."""
        referenced = table_in_state(state, self.target, self.schema)
        if self.target_column is None:
            return referenced
        return Table(referenced.name, self.target_column, referenced.schema)

    def add(self, schema_editor, state=None) -> None:
        relation = self.relation()
        table, name = relation.identifier, sql.Identifier(self.name)
        referenced = self.referenced(state)
        if schema_editor.collect_sql or not constraint_exists(
            schema_editor.connection, relation, self.name
        ):
            run_ddl(
                schema_editor,
                sql.SQL(
                    "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {}({}) "
                    "ON DELETE {} NOT VALID"
                ).format(
                    table,
                    name,
                    sql.Identifier(self.column),
                    referenced.identifier,
                    referenced.key_identifier,
                    sql.SQL(self.rule),
                ),
                relation,
                referenced,
            )
        run_ddl(
            schema_editor,
            sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(table, name),
            relation,
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        drop_constraint(schema_editor, self.relation(), self.name)

    def describe(self):
        referenced = self.referenced(None).label
        if self.target_column:
            referenced = f"{referenced}.{self.target_column}"
        return (
            f"Add foreign key {self.name}: {self.relation().label}.{self.column} -> {referenced} "
            f"ON DELETE {self.rule}, NOT VALID, then validated while writes go on (online)"
        )


class SetForeignKeyRule(DatabaseOnlyOperation):
    """Change a foreign key's ``ON DELETE`` rule without a scan under a strong lock.

    A twin constraint with the new rule is added ``NOT VALID``, validated while writes go
    on, and renamed into place in one short transaction; the constraint keeps its name.
    ``target_column``: as for ``AddForeignKey``.
    """

    def __init__(
        self,
        table: str,
        name: str,
        column: str,
        target: str,
        rule: str,
        previous: str,
        target_column: str | None = None,
        schema: str = DEFAULT_SCHEMA,
    ):
        self.table, self.name, self.column, self.target = table, name, column, target
        self.rule, self.previous, self.target_column = rule, previous, target_column
        self.schema = schema

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.replace(schema_editor, self.rule, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self.replace(schema_editor, self.previous, to_state)

    def replace(self, schema_editor, rule: str, state) -> None:
        connection = schema_editor.connection
        twin = f"{self.name[:58]}_next"
        if not schema_editor.collect_sql and self.current_rule(connection) == _DELETE_RULES[rule]:
            return
        twin_key = AddForeignKey(
            self.table,
            twin,
            self.column,
            self.target,
            rule,
            self.target_column,
            self.schema,
        )
        twin_key.add(schema_editor, state)
        run_ddl(
            schema_editor,
            sql.SQL(
                "ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {old}; "
                "ALTER TABLE {t} RENAME CONSTRAINT {twin} TO {old}"
            ).format(
                t=self.relation().identifier,
                old=sql.Identifier(self.name),
                twin=sql.Identifier(twin),
            ),
            self.relation(),
            twin_key.referenced(state),
        )

    def current_rule(self, connection) -> str | None:
        row = fetch_one(
            connection,
            "SELECT confdeltype FROM pg_catalog.pg_constraint "
            "WHERE conrelid = to_regclass(%s) AND conname = %s",
            [regclass(connection, self.relation().identifier), self.name],
        )
        return row[0] if row else None

    def describe(self):
        return (
            f"Set ON DELETE {self.rule} (was {self.previous}) on foreign key {self.name} "
            f"({self.relation().label}.{self.column} -> {self.target}): a twin constraint "
            "added NOT VALID, validated while writes go on, renamed into place (online)"
        )


class MoveSequencePastMax(DatabaseOnlyOperation):
    """Move a serial column's sequence past the column's highest value; never backwards.

    A sequence behind ``max(id)`` (production's content_logs, P2) makes the next insert that
    takes the default fail with a duplicate key. The table is locked in SHARE mode (writes
    wait, reads go on) for two index lookups, so no insert slips between the comparison and
    the move. Backwards leaves the sequence where it is: moving it back would only bring the
    collisions back. ``column``: the model's primary key in the migration state unless given.
    """

    reversible = True

    def __init__(self, table: str, column: str | None = None, schema: str = DEFAULT_SCHEMA):
        self.table, self.column, self.schema = table, column, schema

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        target = self.relation(to_state)
        column = self.column or target.key
        run_ddl(
            schema_editor,
            sql.SQL(
                "DO $$ DECLARE sequence regclass := pg_get_serial_sequence({name}, {column}); "
                "highest bigint; upcoming bigint; BEGIN "
                "LOCK TABLE {table} IN SHARE MODE; "
                "SELECT max({ident}) INTO highest FROM {table}; "
                "EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 "
                "ELSE last_value END FROM %s', sequence) INTO upcoming; "
                "IF highest >= upcoming THEN PERFORM setval(sequence, highest); END IF; "
                "END $$"
            ).format(
                name=sql.Literal(regclass(schema_editor.connection, target.identifier)),
                column=sql.Literal(column),
                table=target.identifier,
                ident=sql.Identifier(column),
            ),
            target,
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self):
        label = self.relation().label
        column = f"{label}.{self.column}" if self.column else f"the primary key of {label}"
        return (
            f"Move the sequence of {column} past the column's highest "
            "value if it is behind, never backwards (the table locked in SHARE mode for two "
            "index lookups: writes wait, reads go on)"
        )
