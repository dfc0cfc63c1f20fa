"""Drop the legacy indexes that duplicate a primary key (QUIRKS.md §1), concurrently.

``ix_users_id``, ``ix_admin_users_id`` and ``ix_user_settings_id`` index exactly what the
primary keys already index; they only cost writes. Reversing rebuilds them concurrently.
"""

from django.db import migrations

from database.online import DropIndex
from database.operations import SeparateDatabaseAndState


def drop(model_name: str, table: str, name: str) -> migrations.SeparateDatabaseAndState:
    return SeparateDatabaseAndState(
        database_operations=[DropIndex(table, name, ["id"])],
        state_operations=[migrations.RemoveIndex(model_name, name)],
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0005_user_settings_one_row_per_user"),
    ]

    operations = [
        drop("user", "users", "ix_users_id"),
        drop("adminuser", "admin_users", "ix_admin_users_id"),
        drop("usersettings", "user_settings", "ix_user_settings_id"),
    ]
