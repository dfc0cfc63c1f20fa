"""Notifications to the target (TARGET_SCHEMA.md §4, R-10): references and required values.

- ``goal_id`` and ``workflow_id`` pointed at tables production never had: their values are
  archived and cleared, and the emptied columns become varchar (the platform's key type,
  D15), indexed: ``goal_id`` a foreign key to goals, ON DELETE SET NULL; ``workflow_id`` a
  reference without a key, as the platform declares it (check_integrity compares it). Only
  catalog changes take the table lock.
- ``message`` and ``notification_type`` become NOT NULL, as the code declares them: the rows
  where they are NULL are archived, then get '' and 'info' (the column's default).

(``content_id`` became text in accounts.0004, in the one pass that writes every row of
notifications.)

Non-atomic; every step resumes after an interruption. Backwards restores every archived
value.
"""

import django.db.models.deletion
from django.db import migrations, models

from database.online.conversions import ArchiveAndFill, RetypeDanglingColumns
from database.online.ddl import AddForeignKey, CreateIndex, SetNotNull
from database.online.operations import SeparateDatabaseAndState

MIGRATION = "accounts.0011_notifications_references_and_required_values"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0010_encrypt_secrets"),
        ("goals", "0001_initial"),
        ("workflows", "0001_initial"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                RetypeDanglingColumns(
                    "notifications",
                    ["goal_id", "workflow_id"],
                    type="character varying",
                    previous_type="integer",
                    archive_table="notifications_goal_id_workflow_id",
                    migration=MIGRATION,
                ),
                AddForeignKey(
                    "notifications", "notifications_goal_id_fkey", "goal_id", "goals", "SET NULL"
                ),
                CreateIndex("notifications", "notifications_goal_id_idx", ["goal_id"]),
                CreateIndex("notifications", "notifications_workflow_id_idx", ["workflow_id"]),
            ],
            state_operations=[
                migrations.RemoveField("notification", "goal_id"),
                migrations.RemoveField("notification", "workflow_id"),
                migrations.AddField(
                    "notification",
                    "goal",
                    models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="notifications",
                        to="goals.goal",
                    ),
                ),
                migrations.AddField(
                    "notification",
                    "workflow",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="notifications",
                        to="workflows.workflowexecution",
                    ),
                ),
                migrations.AddIndex(
                    "notification",
                    models.Index(fields=["goal"], name="notifications_goal_id_idx"),
                ),
                migrations.AddIndex(
                    "notification",
                    models.Index(fields=["workflow"], name="notifications_workflow_id_idx"),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                ArchiveAndFill(
                    "notifications",
                    "message",
                    "''",
                    archive_table="notifications_message_null",
                    migration=MIGRATION,
                ),
                SetNotNull("notifications", "message"),
                ArchiveAndFill(
                    "notifications",
                    "notification_type",
                    "'info'",
                    archive_table="notifications_notification_type_null",
                    migration=MIGRATION,
                ),
                SetNotNull("notifications", "notification_type"),
            ],
            state_operations=[
                migrations.AlterField("notification", "message", models.TextField()),
                migrations.AlterField(
                    "notification",
                    "notification_type",
                    models.CharField(db_default="info", max_length=50),
                ),
            ],
        ),
    ]
