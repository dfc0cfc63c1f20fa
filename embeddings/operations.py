"""``RequiresVector``: the migration operation that makes this app optional (D2).

A tiny, stable helper module that the app's migrations import (STYLE.md §5's exception).
"""

import logging

from django.db import migrations

import embeddings

logger = logging.getLogger(__name__)


class RequiresVector(migrations.SeparateDatabaseAndState):
    """Operations that need pgvector.

    The migration state always takes ``operations``, so the models, ``makemigrations`` and
    later migrations are the same on every server. The database takes them only

    - for the migration that creates the tables (it holds a ``CreateModel``): where the
      server offers the ``vector`` extension (``embeddings.extension_available``);
    - otherwise, and when unapplying: where the tables exist (``embeddings.available``).

    Elsewhere nothing touches the database, a warning is logged, and Django still records
    the migration as applied. ``sqlmigrate`` always prints the SQL.
    """

    serialization_expand_args = ["operations"]

    def __init__(self, operations):
        self.operations = list(operations)
        super().__init__(database_operations=self.operations, state_operations=self.operations)

    def deconstruct(self):
        return self.__class__.__qualname__, [], {"operations": self.operations}

    @property
    def creates_tables(self) -> bool:
        return any(isinstance(op, migrations.CreateModel) for op in self.operations)

    def applies_to(self, connection, *, forwards: bool) -> bool:
        if forwards and self.creates_tables:
            return embeddings.extension_available(connection)
        return embeddings.available(connection)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if self._skip(schema_editor, forwards=True):
            return
        super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if self._skip(schema_editor, forwards=False):
            return
        super().database_backwards(app_label, schema_editor, from_state, to_state)

    def _skip(self, schema_editor, *, forwards: bool) -> bool:
        if schema_editor.collect_sql:
            return False
        if self.applies_to(schema_editor.connection, forwards=forwards):
            return False
        reason = (
            f"the server offers no {embeddings.EXTENSION!r} extension"
            if forwards and self.creates_tables
            else f"the tables {', '.join(embeddings.TABLES)} do not exist"
        )
        logger.warning(
            "embeddings: %s; skipped in the database (recorded as applied): %s.",
            reason,
            self.describe(),
        )
        return True

    def describe(self):
        return "Where pgvector is available: " + "; ".join(
            operation.describe() for operation in self.operations
        )
