"""Write the new tables' ON DELETE rules into the database, as the models declare them.

Django 5.2 enforces ``on_delete`` in Python only: its foreign keys are NO ACTION in the
database. The running platform deletes users with plain SQL, which such a key would refuse
once the user has rows in a new table. Every foreign key of the tables created by the
forward migrations (not the 16 legacy ones, whose rules their own migrations set) is
re-created with the rule its field declares: CASCADE or SET NULL; PROTECT and RESTRICT stay
NO ACTION, DO_NOTHING is left alone. The tables are new, so re-creating a key is instant.

Each key is re-created in a transaction of its own, under the lock timeout and retried
(``database.online.batches.in_transaction``): dropping a foreign key takes ACCESS EXCLUSIVE
on the table it references too (users, admin_users), and one transaction for every key held
those locks for the whole migration (160 ms at 5M rows). The referenced table is locked
first, so waiting for it (users is busy) holds no lock on the new table. A re-run re-creates
the keys again, to the same end.
"""

from django.db import migrations, models

from database.online import batches
from database.schema import baseline

DOMAIN_APPS = [
    "accounts",
    "organizations",
    "goals",
    "content",
    "social",
    "workflows",
    "research",
]
# RESTRICT stays NO ACTION in the database: PostgreSQL checks RESTRICT before the other
# cascades of the same DELETE, NO ACTION after them, which is what R-20 means (a user's
# deletion removes their connections and posts together).
RULES = {models.CASCADE: "CASCADE", models.SET_NULL: "SET NULL"}


def foreign_keys(apps):
    """(table, column, target table, target column, rule) for every new table's FK."""
    legacy = set(baseline.load_snapshot()["tables"])
    for app_label in DOMAIN_APPS:
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.db_table in legacy:
                continue
            for field in model._meta.concrete_fields:
                if (
                    field.is_relation
                    and field.db_constraint
                    and field.remote_field.on_delete in RULES
                ):
                    target = field.target_field
                    yield (
                        model._meta.db_table,
                        field.column,
                        target.model._meta.db_table,
                        target.column,
                        RULES[field.remote_field.on_delete],
                    )


def set_rules(schema_editor, apps, *, reset: bool) -> None:
    connection = schema_editor.connection
    quote = schema_editor.quote_name
    for table, column, target, target_column, rule in foreign_keys(apps):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT con.conname FROM pg_catalog.pg_constraint con "
                "JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid "
                "AND a.attnum = con.conkey[1] "
                "WHERE con.conrelid = to_regclass(%s) AND con.contype = 'f' AND a.attname = %s",
                [f"public.{table}", column],
            )
            names = [name for (name,) in cursor.fetchall()]
        for name in names:
            on_delete = "" if reset else f" ON DELETE {rule}"
            statement = (
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}, "
                f"ADD CONSTRAINT {quote(name)} FOREIGN KEY ({quote(column)}) "
                f"REFERENCES {quote(target)} ({quote(target_column)}){on_delete} "
                "DEFERRABLE INITIALLY DEFERRED"
            )
            # The referenced table first (the statement takes it ACCESS EXCLUSIVE too, to drop
            # the key's triggers there): waiting for it holds nothing of the new table.
            work = f"LOCK TABLE {quote(target)} IN ACCESS EXCLUSIVE MODE; {statement}"
            batches.in_transaction(
                connection,
                lambda cursor, work=work: cursor.execute(work),
                statement,
                ddl=True,
                tables=[batches.Table(target), batches.Table(table)],
            )


def forwards(apps, schema_editor):
    """Re-create the new tables' CASCADE and SET NULL foreign keys with their ON DELETE rule."""
    set_rules(schema_editor, apps, reset=False)


def backwards(apps, schema_editor):
    """Re-create those foreign keys without an ON DELETE rule (NO ACTION)."""
    set_rules(schema_editor, apps, reset=True)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("database", "0001_inspector_group"),
        ("accounts", "0010_encrypt_secrets"),
        ("organizations", "0002_seed_roles_and_permissions"),
        ("goals", "0001_initial"),
        ("content", "0008_target_defaults_columns_and_rules"),
        ("social", "0007_encrypt_tokens"),
        ("workflows", "0001_initial"),
        ("research", "0005_target_defaults_columns_and_rules"),
    ]

    operations = [migrations.RunPython(forwards, backwards, atomic=False)]
