"""The composite indexes content_logs is missing (TARGET_SCHEMA.md §4, from Alembic 025).

(platform, status) and (user_id, created_at) are built first; the single-column indexes
they lead with are then redundant and dropped. Concurrent builds and drops; reversing
restores the legacy indexes by name.
"""

from django.db import migrations, models

from database.recipes import OnlineAddIndex, OnlineRemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("content", "0008_target_defaults_columns_and_rules"),
    ]

    operations = [
        OnlineAddIndex(
            "contentlog",
            models.Index(fields=["platform", "status"], name="content_logs_platform_status_idx"),
        ),
        OnlineAddIndex(
            "contentlog",
            models.Index(
                fields=["user", "created_at"], name="content_logs_user_id_created_at_idx"
            ),
        ),
        # Prefixes of the two above.
        OnlineRemoveIndex("contentlog", "ix_content_logs_platform"),
        OnlineRemoveIndex("contentlog", "ix_content_logs_user_id"),
    ]
