"""The composite indexes content_logs is missing (TARGET_SCHEMA.md §4, from Alembic 025).

(platform, status) and (user_id, created_at) are built first; the single-column indexes
they lead with are then redundant and dropped. Concurrent builds and drops; reversing
restores the legacy indexes by name.
"""

from django.db import migrations, models

from database.online import CreateIndex, DropIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("content", "0008_target_defaults_columns_and_rules"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "content_logs", "content_logs_platform_status_idx", ["platform", "status"]
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "contentlog",
                    models.Index(
                        fields=["platform", "status"], name="content_logs_platform_status_idx"
                    ),
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "content_logs",
                    "content_logs_user_id_created_at_idx",
                    ["user_id", "created_at"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "contentlog",
                    models.Index(
                        fields=["user", "created_at"], name="content_logs_user_id_created_at_idx"
                    ),
                ),
            ],
        ),
        # A prefix of content_logs_platform_status_idx.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndex("content_logs", "ix_content_logs_platform", ["platform"])
            ],
            state_operations=[migrations.RemoveIndex("contentlog", "ix_content_logs_platform")],
        ),
        # A prefix of content_logs_user_id_created_at_idx.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndex("content_logs", "ix_content_logs_user_id", ["user_id"])
            ],
            state_operations=[migrations.RemoveIndex("contentlog", "ix_content_logs_user_id")],
        ),
    ]
