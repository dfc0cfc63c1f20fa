"""Make user_settings one row per user (R-15), archiving the duplicates first.

The application treats settings as one-to-one, but production has no constraint and holds
duplicates (sample data: two rows for user 2). For each user the oldest row (lowest id) is
kept; the others are copied to ``archive.user_settings_duplicates`` (with a manifest) and
deleted in the same transaction, then the unique constraint is built concurrently.
Reversing drops the constraint and puts the archived rows back.
"""

from django.db import migrations, models, transaction

from database import archive
from database.online import AddUniqueConstraint

MIGRATION = "accounts.0005_user_settings_one_row_per_user"
DUPLICATES = "id NOT IN (SELECT min(id) FROM public.user_settings GROUP BY user_id)"


def settings_columns(connection) -> list[str]:
    with connection.cursor() as cursor:
        return [
            column.name
            for column in connection.introspection.get_table_description(cursor, "user_settings")
        ]


def archive_duplicates(apps, schema_editor):
    connection = schema_editor.connection
    with transaction.atomic(using=connection.alias):
        archive.archive_rows(
            connection,
            source_table="user_settings",
            archive_table="user_settings_duplicates",
            columns=settings_columns(connection),
            migration=MIGRATION,
            where=DUPLICATES,
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM user_settings WHERE {DUPLICATES}")


def restore_duplicates(apps, schema_editor):
    connection = schema_editor.connection
    with transaction.atomic(using=connection.alias):
        archive.restore_rows(
            connection,
            archive_table="user_settings_duplicates",
            target_table="user_settings",
            columns=settings_columns(connection),
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0004_users_admin_users_notifications_public_id"),
    ]

    operations = [
        migrations.RunPython(archive_duplicates, restore_duplicates),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                AddUniqueConstraint("user_settings", "user_settings_user_id_key", ["user_id"]),
            ],
            state_operations=[
                migrations.AddConstraint(
                    "usersettings",
                    models.UniqueConstraint(fields=["user"], name="user_settings_user_id_key"),
                ),
            ],
        ),
    ]
