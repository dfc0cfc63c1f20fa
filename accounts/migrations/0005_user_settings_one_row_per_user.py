"""Make user_settings one row per user (R-15), archiving the duplicates first.

The application treats settings as one-to-one, but production has no constraint and holds
duplicates (sample data: two rows for user 2). For each user the oldest row (lowest id) is
kept; the others are copied to ``archive.user_settings_duplicates`` (with a manifest) and
deleted in the same transaction, then the unique constraint is built concurrently.
Reversing drops the constraint and puts the archived rows back.
"""

from django.db import migrations, models

from database.online.archive import ArchiveRows
from database.online.ddl import AddUniqueConstraint
from database.online.operations import SeparateDatabaseAndState

MIGRATION = "accounts.0005_user_settings_one_row_per_user"
DUPLICATES = "id NOT IN (SELECT min(id) FROM public.user_settings GROUP BY user_id)"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0004_users_admin_users_notifications_public_id"),
    ]

    operations = [
        ArchiveRows(
            "user_settings",
            "user_settings_duplicates",
            MIGRATION,
            where=DUPLICATES,
            then=[f"DELETE FROM user_settings WHERE {DUPLICATES}"],
        ),
        SeparateDatabaseAndState(
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
