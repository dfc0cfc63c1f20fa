"""``admin_users.is_active`` becomes NOT NULL DEFAULT true (TARGET_SCHEMA.md §4).

The code reads NULL as inactive, so the NULLs are archived and set to false first, which
keeps every admin's access as it is; the default (true) arrived in 0009. Backwards puts
the NULLs back from the archive.
"""

from django.db import migrations, models

from database.online.conversions import ArchiveAndFill
from database.online.ddl import SetNotNull
from database.online.operations import SeparateDatabaseAndState


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0012_users_default_organization_reference"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                ArchiveAndFill(
                    "admin_users",
                    "is_active",
                    "false",
                    archive_table="admin_users_is_active_null",
                    migration="accounts.0013_admin_users_is_active_required",
                ),
                SetNotNull("admin_users", "is_active"),
            ],
            state_operations=[
                migrations.AlterField(
                    "adminuser", "is_active", models.BooleanField(db_default=True)
                ),
            ],
        ),
    ]
