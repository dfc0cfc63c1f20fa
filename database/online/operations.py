"""Migration operations shared by every app, and how operations are described in words.

``LegacyCreateModel`` is how the baseline adopts production: its migration state is the
model, exactly like ``CreateModel`` (so ``migrate --fake-initial`` recognises it), while on an
empty database it executes the production DDL verbatim, so that both paths end with the same
catalog.

``SeparateDatabaseAndState`` is Django's, described by what it does to the database (or, when
it does nothing there, by the state change), so that ``migrate --plan`` and ``sqlmigrate``
say what happens instead of "Custom state/database change combination".
"""

import re
from collections.abc import Sequence

from django.db import migrations
from django.db.migrations.operations.base import Operation

# How much of a statement or docstring a one-line description quotes.
QUOTED = 100


def quote(text: str, limit: int = QUOTED) -> str:
    """``text`` on one line, whitespace collapsed, cut at ``limit`` characters."""
    line = re.sub(r"\s+", " ", text).strip().rstrip(";")
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def describe(operation: Operation, *, backwards: bool = False) -> str:
    """One line saying what ``operation`` does, on one line (``sqlmigrate`` prints it as a
    comment): the project's operations describe themselves; Django's ``RunSQL`` and
    ``RunPython`` are quoted (their SQL, the first line of their function's docstring)."""
    if isinstance(operation, migrations.RunSQL):
        statements = operation.reverse_sql if backwards else operation.sql
        if statements is None:
            return "Raw SQL operation: IRREVERSIBLE"
        if statements == migrations.RunSQL.noop:
            return "Raw SQL operation: nothing (no-op)"
        if not isinstance(statements, str):
            statements = "; ".join(
                item if isinstance(item, str) else item[0] for item in statements
            )
        return f"Raw SQL operation: {quote(statements)}"
    if isinstance(operation, migrations.RunPython):
        code = operation.reverse_code if backwards else operation.code
        if code is None:
            return "Raw Python operation: IRREVERSIBLE"
        if code is migrations.RunPython.noop:
            return "Raw Python operation: nothing (no-op)"
        summary = (code.__doc__ or "").strip().split("\n\n")[0]
        return f"Raw Python operation: {quote(summary)}" if summary else "Raw Python operation"
    text = operation.describe()
    return f"Undo: {text}" if backwards else text


class SeparateDatabaseAndState(migrations.SeparateDatabaseAndState):
    """Django's operation, described by its database operations (or its state change)."""

    def steps(self) -> list[str]:
        """Its database operations in words, in order (``migrate --plan`` prints one a line)."""
        if self.database_operations:
            return [describe(operation) for operation in self.database_operations]
        changes = "; ".join(operation.describe() for operation in self.state_operations)
        return [f"Migration state only, the database is not changed: {changes}"]

    def describe(self):
        return "; then ".join(self.steps())


class LegacyCreateModel(migrations.CreateModel):
    """Create a legacy table by running the DDL production was built with."""

    def __init__(
        self, name, fields, options=None, bases=None, managers=None, *, ddl: Sequence[str]
    ):
        self.ddl = list(ddl)
        super().__init__(name, fields, options=options, bases=bases, managers=managers)

    @property
    def table(self) -> str:
        return self.options["db_table"]

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        kwargs["ddl"] = self.ddl
        return name, args, kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            for statement in self.ddl:
                schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            table = schema_editor.quote_name(model._meta.db_table)
            schema_editor.execute(f"DROP TABLE {table} CASCADE", params=None)

    def describe(self):
        return (
            f"Create legacy table {self.table} (model {self.name}) from the production DDL, "
            f"{len(self.ddl)} statement(s)"
        )

    def describe_faked(self):
        """What ``migrate --fake-initial`` does with it once the baseline check passed."""
        return f"fake: table {self.table} already matches production (model {self.name})"
