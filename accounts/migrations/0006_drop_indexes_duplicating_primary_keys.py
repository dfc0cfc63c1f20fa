"""Drop the legacy indexes that duplicate a primary key (QUIRKS.md §1), concurrently.

``ix_users_id``, ``ix_admin_users_id`` and ``ix_user_settings_id`` index exactly what the
primary keys already index; they only cost writes. Reversing rebuilds them concurrently.
"""

from django.db import migrations

from database.recipes import OnlineRemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0005_user_settings_one_row_per_user"),
    ]

    operations = [
        OnlineRemoveIndex("user", "ix_users_id"),
        OnlineRemoveIndex("adminuser", "ix_admin_users_id"),
        OnlineRemoveIndex("usersettings", "ix_user_settings_id"),
    ]
