"""Online operations that read the migration state: Django's own, made safe for busy tables.

``OnlineAlterField`` is ``AlterField`` with the same arguments, so the operation
makemigrations writes can be replaced one for one. The migration state changes exactly as
Django's (its ``state_forwards``); the database change is derived from the field before and
after: the table, the column, its indexes and defaults. It picks the online recipe of
``database.online.ddl`` and ``database.online.conversions`` for what changed, and refuses, before
touching anything, a change it cannot make online. It needs a migration with
``atomic = False`` when the recipe builds indexes or backfills.
"""

import json

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.fields import AddField, AlterField
from django.db.migrations.operations.models import AddIndex, RemoveIndex
from django.db.models import NOT_PROVIDED
from psycopg import sql

from database.online.batches import DEFAULT_SCHEMA, Table, column_type
from database.online.conversions import ConvertJsonToJsonb, ConvertToTimestamptz
from database.online.ddl import (
    CreateIndex,
    DatabaseOnlyOperation,
    SetForeignKeyRule,
    SetNotNull,
    fetch_one,
    regclass,
    run_ddl,
)
from database.online.operations import SeparateDatabaseAndState
from database.online.rewrite import rewrite_once

TIMESTAMP = "timestamp without time zone"
TIMESTAMPTZ = "timestamp with time zone"

# The rule the database enforces for each on_delete; the others are enforced in Python only.
_DATABASE_RULES = {models.CASCADE: "CASCADE", models.SET_NULL: "SET NULL"}


class CannotAlterOnline(ValueError):
    """The change has no online recipe: write it with the operations of database.online.ddl."""


def jsonb_text(value) -> str:
    """``value`` as PostgreSQL prints it as jsonb: keys by length, then bytes; no duplicates.

    Used for defaults, so that a json default restored backwards reads as production's.
    """
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        items = (
            f"{json.dumps(key, ensure_ascii=False)}: {jsonb_text(value[key])}" for key in keys
        )
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(jsonb_text(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def database_rule(field) -> str:
    return _DATABASE_RULES.get(field.remote_field.on_delete, "NO ACTION")


class ColumnChange(DatabaseOnlyOperation):
    """A catalog-only column change (nullability dropped, database default): one statement."""

    def __init__(
        self,
        table: str,
        column: str,
        forwards: str,
        backwards: str,
        words: str,
        schema: str = DEFAULT_SCHEMA,
    ):
        self.table, self.column, self.schema = table, column, schema
        self.forwards, self.backwards, self.words = forwards, backwards, words

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self.alter(schema_editor, self.forwards)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self.alter(schema_editor, self.backwards)

    def alter(self, schema_editor, change: str) -> None:
        table = self.relation()
        statement = sql.SQL("ALTER TABLE {} ALTER COLUMN {} {}").format(
            table.identifier, sql.Identifier(self.column), sql.SQL(change)
        )
        run_ddl(schema_editor, statement, table)

    def describe(self):
        return f"{self.words} on {self.relation().label}.{self.column} (a catalog change)"


class RunsItsRecipe:
    """Mixed into an operation with a ``recipe``: forwards runs its steps in order, each
    described above its statements under ``sqlmigrate``."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for step in self.recipe(app_label, schema_editor, from_state, to_state):
            if schema_editor.collect_sql:
                schema_editor.collected_sql.append(f"-- {step.describe()}")
            step.database_forwards(app_label, schema_editor, from_state, to_state)


class OnlineAlterField(RunsItsRecipe, AlterField):
    """``AlterField`` run online; the recipe follows from the field before and after."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        # The steps of the forward change, undone in reverse order: each knows its way back.
        steps = self.recipe(app_label, schema_editor, to_state, from_state)
        for step in reversed(steps):
            if schema_editor.collect_sql:
                schema_editor.collected_sql.append(f"-- Undo: {step.describe()}")
            step.database_backwards(app_label, schema_editor, from_state, to_state)

    def recipe(self, app_label, schema_editor, before, after) -> list[DatabaseOnlyOperation]:
        """The online operations that take the column from ``before`` to ``after``."""
        connection = schema_editor.connection
        old_model = before.apps.get_model(app_label, self.model_name)
        new_model = after.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(connection.alias, new_model):
            return []
        old = old_model._meta.get_field(self.name)
        new = new_model._meta.get_field(self.name)
        table = new_model._meta.db_table
        if old.column != new.column or old_model._meta.db_table != table:
            raise self.refusal("renames a column or table; keep the name with db_column")
        return [
            *self.type_steps(schema_editor, old_model, old, new, table),
            *self.null_steps(table, old, new),
            *self.rule_steps(connection, table, old, new),
        ]

    def type_steps(self, schema_editor, old_model, old, new, table):
        connection = schema_editor.connection
        old_type, new_type = old.db_type(connection), new.db_type(connection)
        if old_type == new_type:
            return self.default_steps(schema_editor, table, old, new)
        if old.db_default != new.db_default:
            # The type recipes keep one default on both sides of the swap.
            raise self.refusal(f"changes the default together with the type {new_type}")
        if (old_type, new_type) == ("json", "jsonb"):
            return [ConvertJsonToJsonb(table, new.column, default=self.json_default(new))]
        if (old_type, new_type) == (TIMESTAMP, TIMESTAMPTZ):
            return [ConvertToTimestamptz(table, new.column, self.plain_indexes(old_model, old))]
        raise self.refusal(
            f"changes the type from {old_type} to {new_type}; use "
            "database.online.conversions.ChangeColumnType with the conversion as an SQL expression"
        )

    def json_default(self, field) -> str | None:
        default = field.db_default
        if default is NOT_PROVIDED:
            return None
        value = getattr(default, "value", default)
        if hasattr(value, "resolve_expression"):
            raise self.refusal("gives a json column a database default that is an expression")
        return jsonb_text(value)

    def default_steps(self, schema_editor, table, old, new):
        if old.db_default == new.db_default:
            return []
        return [
            ColumnChange(
                table,
                new.column,
                self.default_clause(schema_editor, new),
                self.default_clause(schema_editor, old),
                "Change the database default",
            )
        ]

    @staticmethod
    def default_clause(schema_editor, field) -> str:
        if field.db_default is NOT_PROVIDED:
            return "DROP DEFAULT"
        text, params = schema_editor.db_default_sql(field)
        return "SET DEFAULT " + text % tuple(map(schema_editor.quote_value, params))

    def null_steps(self, table, old, new):
        if old.null and not new.null:
            return [SetNotNull(table, new.column)]
        if new.null and not old.null:
            return [
                ColumnChange(table, new.column, "DROP NOT NULL", "SET NOT NULL", "Drop NOT NULL")
            ]
        return []

    def rule_steps(self, connection, table, old, new):
        if not (old.remote_field and new.remote_field):
            return []
        rule, previous = database_rule(new), database_rule(old)
        if rule == previous:
            return []
        target = new.related_model._meta
        name = self.foreign_key_name(connection, table, new.column)
        target_column = new.target_field.column
        return [
            SetForeignKeyRule(
                table, name, new.column, target.db_table, rule, previous, target_column
            )
        ]

    @staticmethod
    def foreign_key_name(connection, table: str, column: str) -> str:
        """The live constraint's name; PostgreSQL's own naming when there is none yet."""
        row = fetch_one(
            connection,
            "SELECT c.conname FROM pg_catalog.pg_constraint c "
            "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid "
            "AND a.attnum = c.conkey[1] WHERE c.contype = 'f' AND c.conrelid = to_regclass(%s) "
            "AND a.attname = %s AND cardinality(c.conkey) = 1 ORDER BY c.conname LIMIT 1",
            [regclass(connection, Table(table).identifier), column],
        )
        return row[0] if row else f"{table}_{column}_fkey"[:63]

    def plain_indexes(self, model, field) -> list[tuple[str, list[str]]]:
        """The state's indexes on ``field``, as (name, columns) to rebuild concurrently."""
        if field.unique or field.db_index or field.primary_key:
            raise self.refusal("changes the time zone of a unique or db_index column")
        for constraint in model._meta.constraints:
            if field.name in getattr(constraint, "fields", ()):
                raise self.refusal(f"changes a column of the constraint {constraint.name}")
        indexes = []
        for index in model._meta.indexes:
            names = [name.lstrip("-") for name in index.fields]
            if field.name not in names:
                continue
            if names != index.fields or index.condition or index.include or index.opclasses:
                raise self.refusal(
                    f"changes a column of the ordered or partial index {index.name}"
                )
            if index.contains_expressions:
                raise self.refusal(f"changes a column of the expression index {index.name}")
            indexes.append((index.name, [model._meta.get_field(name).column for name in names]))
        return indexes

    def refusal(self, why: str) -> CannotAlterOnline:
        return CannotAlterOnline(
            f"OnlineAlterField cannot alter {self.model_name}.{self.name} online: it {why}. "
            "Nothing was changed."
        )

    def describe(self):
        # Without the migration state the change's recipe is unknown here; the steps that
        # run are described under it by sqlmigrate and by migrate --plan.
        if self.field.remote_field:
            target = f"a foreign key to {self.field.remote_field.model}"
        else:
            target = self.field.db_type(connections[DEFAULT_DB_ALIAS])
        return f"Alter field {self.name} on {self.model_name} online ({target}), step by step"


class OnePass(DatabaseOnlyOperation):
    """The fills of one table (backfills, shadow-column conversions) run together by
    ``database.online.rewrite``: every row written once."""

    reduces_to_sql = False

    def __init__(self, table: Table, steps: list[DatabaseOnlyOperation]):
        self.table, self.steps = table, list(steps)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        rewrite_once(schema_editor, app_label, self.table, self.steps)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for step in reversed(self.steps):
            step.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        fills = "; ".join(step.describe() for step in self.steps)
        return (
            f"One pass over {self.table.name}, each row written once by one batched UPDATE, "
            f"the shadow columns kept current by one trigger and swapped in together: {fills}"
        )


class RewriteOnce(RunsItsRecipe, Operation):
    """Several changes of one table's columns whose rows must each be rewritten, made with
    every row written once.

    ``operations`` are the migration's own operations on the table, in order
    (``OnlineAlterField``, the ``public_id`` recipe of ``ddl.add_public_id``, …): the
    migration state changes exactly as theirs. On the database their steps run in order,
    except the fills (backfills and shadow-column conversions), which run as one pass
    (``OnePass``) in the place of the first. Backwards, each operation is undone in turn.
    """

    reversible = True

    def __init__(self, model_name: str, operations: list[Operation]):
        self.model_name, self.operations = model_name, list(operations)

    def deconstruct(self):
        kwargs = {"model_name": self.model_name, "operations": self.operations}
        return self.__class__.__name__, [], kwargs

    def state_forwards(self, app_label, state):
        for operation in self.operations:
            operation.state_forwards(app_label, state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for operation, before, after in reversed(self.with_states(app_label, to_state)):
            operation.database_backwards(app_label, schema_editor, after, before)

    def with_states(self, app_label, state) -> list[tuple]:
        """(operation, state before, state after) of each operation, from ``state``."""
        states = []
        for operation in self.operations:
            after = state.clone()
            operation.state_forwards(app_label, after)
            states.append((operation, state, after))
            state = after
        return states

    def recipe(self, app_label, schema_editor, before, after) -> list[DatabaseOnlyOperation]:
        """The steps of every operation, their fills gathered into one ``OnePass``."""
        steps = []
        for operation, first, then in self.with_states(app_label, before):
            steps.extend(self.steps_of(operation, app_label, schema_editor, first, then))
        fills = [step for step in steps if hasattr(step, "fill")]
        if len(fills) < 2:
            return steps
        model = after.apps.get_model(app_label, self.model_name)
        first = next(number for number, step in enumerate(steps) if hasattr(step, "fill"))
        rest = [step for step in steps[first:] if not hasattr(step, "fill")]
        return [*steps[:first], OnePass(Table.of_model(model), fills), *rest]

    @staticmethod
    def steps_of(operation, app_label, schema_editor, before, after) -> list:
        if hasattr(operation, "recipe"):
            return operation.recipe(app_label, schema_editor, before, after)
        if isinstance(operation, SeparateDatabaseAndState):
            return list(operation.database_operations)
        return [operation]

    def describe(self):
        changes = "; ".join(operation.describe() for operation in self.operations)
        return f"Rewrite {self.model_name} once online (each row written once): {changes}"


def plain_index_columns(model, index, refuse) -> list[str]:
    """The columns of an index on ascending plain fields; ``refuse`` for any other index."""
    if (
        not index.fields
        or any(name.startswith("-") for name in index.fields)
        or index.condition
        or index.include
        or index.opclasses
        or index.contains_expressions
    ):
        raise refuse(f"the index {index.name} is not on plain ascending fields")
    return [model._meta.get_field(name).column for name in index.fields]


class OnlineAddIndex(AddIndex):
    """``AddIndex`` built ``CONCURRENTLY``; an invalid leftover of an interrupted build is
    rebuilt, a valid one kept. Reverse drops it concurrently. Needs ``atomic = False``."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if step := self.step(app_label, schema_editor, to_state):
            step.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if step := self.step(app_label, schema_editor, from_state):
            step.database_backwards(app_label, schema_editor, from_state, to_state)

    def step(self, app_label, schema_editor, state) -> CreateIndex | None:
        model = state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return None
        columns = plain_index_columns(model, self.index, self.refusal)
        return CreateIndex(model._meta.db_table, self.index.name, columns)

    def refusal(self, why: str) -> CannotAlterOnline:
        return CannotAlterOnline(f"OnlineAddIndex cannot build it online: {why}.")

    def describe(self):
        fields = ", ".join(self.index.fields)
        return (
            f"Create index {self.index.name} on {self.model_name} ({fields}) concurrently (online)"
        )


class OnlineRemoveIndex(RemoveIndex):
    """``RemoveIndex`` dropped ``CONCURRENTLY``; reverse rebuilds it concurrently, as the
    state had it. Needs ``atomic = False``."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if step := self.step(app_label, schema_editor, from_state):
            step.database_backwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if step := self.step(app_label, schema_editor, to_state):
            step.database_forwards(app_label, schema_editor, from_state, to_state)

    def step(self, app_label, schema_editor, state) -> CreateIndex | None:
        """The index as the state before the removal has it."""
        model = state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return None
        index = state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
        columns = plain_index_columns(model, index, self.refusal)
        return CreateIndex(model._meta.db_table, self.name, columns)

    def refusal(self, why: str) -> CannotAlterOnline:
        return CannotAlterOnline(f"OnlineRemoveIndex cannot rebuild it online: {why}.")

    def describe(self):
        return f"Drop index {self.name} of {self.model_name} concurrently (online)"


class OnlineAddField(AddField):
    """``AddField`` for a column PostgreSQL adds as a catalog change: nullable, or NOT NULL
    with a constant ``db_default`` (kept as the column's default, as Django does). Django's own
    statement runs under the lock timeout, retried; an existing column is left alone, so an
    interrupted ``atomic = False`` migration resumes. A column that brings a constraint or an
    index, or a default computed per row, is refused before anything runs."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field = model._meta.get_field(self.name)
        self.refuse_unsafe(field)
        table = Table(model._meta.db_table)
        exists = column_type(schema_editor.connection, table, field.column) is not None
        if exists and not schema_editor.collect_sql:
            return
        for statement in self.statements(schema_editor.connection, model, field):
            run_ddl(schema_editor, statement, table)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        table = Table(model._meta.db_table)
        statement = sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}").format(
            table.identifier, sql.Identifier(model._meta.get_field(self.name).column)
        )
        run_ddl(schema_editor, statement, table)

    @staticmethod
    def statements(connection, model, field) -> list[str]:
        """What Django's ``AddField`` runs for ``field``, as statements."""
        with connection.schema_editor(collect_sql=True, atomic=False) as collector:
            collector.add_field(model, field)
        return [statement.rstrip(";") for statement in collector.collected_sql]

    def refuse_unsafe(self, field) -> None:
        if field.remote_field or field.unique or field.db_index or field.primary_key:
            raise self.refusal("brings a constraint or an index; add it with database.online.ddl")
        if not field.null and field.db_default is NOT_PROVIDED:
            raise self.refusal("is NOT NULL without a database default")
        if hasattr(field.db_default, "resolve_expression"):
            raise self.refusal("has a database default that is an expression, not a constant")

    def refusal(self, why: str) -> CannotAlterOnline:
        return CannotAlterOnline(
            f"OnlineAddField cannot add {self.model_name}.{self.name} online: it {why}. "
            "Nothing was changed."
        )

    def describe(self):
        return (
            f"Add field {self.name} to {self.model_name} online: a catalog change (nullable or "
            "a constant database default) under the growing DDL lock timeout, retried; "
            "skipped if the column exists"
        )
