"""``users.default_organization_id`` becomes a real reference to organizations (R-5).

Production typed it varchar(255) while organizations did not exist, so no present value can
resolve: the values are archived and cleared, and the emptied column becomes a varchar
foreign key to organizations (their platform-assigned text UUID keys, D15), ON DELETE SET NULL (an optional reference), indexed. Only
catalog changes take the lock on users. Backwards restores the archived values.
"""

import django.db.models.deletion
from django.db import migrations, models

from database.online.conversions import RetypeDanglingColumns
from database.online.ddl import AddForeignKey, CreateIndex
from database.online.operations import SeparateDatabaseAndState


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0011_notifications_references_and_required_values"),
        ("organizations", "0002_seed_roles_and_permissions"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                RetypeDanglingColumns(
                    "users",
                    ["default_organization_id"],
                    type="character varying",
                    previous_type="character varying(255)",
                    archive_table="users_default_organization_id",
                    migration="accounts.0012_users_default_organization_reference",
                ),
                AddForeignKey(
                    "users",
                    "users_default_organization_id_fkey",
                    "default_organization_id",
                    "organizations",
                    "SET NULL",
                ),
                CreateIndex(
                    "users", "users_default_organization_id_idx", ["default_organization_id"]
                ),
            ],
            state_operations=[
                migrations.RemoveField("user", "default_organization_id"),
                migrations.AddField(
                    "user",
                    "default_organization",
                    models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="organizations.organization",
                    ),
                ),
                migrations.AddIndex(
                    "user",
                    models.Index(
                        fields=["default_organization"], name="users_default_organization_id_idx"
                    ),
                ),
            ],
        ),
    ]
