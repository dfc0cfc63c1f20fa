"""Migration operations shared by every app.

``LegacyCreateModel`` is how the baseline adopts production: its migration state is the
model, exactly like ``CreateModel`` (so ``migrate --fake-initial`` recognises it), while on an
empty database it executes the production DDL verbatim, so that both paths end with the same
catalog.
"""

from collections.abc import Sequence

from django.db import migrations


class LegacyCreateModel(migrations.CreateModel):
    """Create a legacy table by running the DDL production was built with."""

    def __init__(
        self, name, fields, options=None, bases=None, managers=None, *, ddl: Sequence[str]
    ):
        self.ddl = list(ddl)
        super().__init__(name, fields, options=options, bases=bases, managers=managers)

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
        return f"Create legacy table for model {self.name} from the production DDL"
