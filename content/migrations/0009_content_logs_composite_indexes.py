"""The composite indexes content_logs is missing (TARGET_SCHEMA.md §4, from Alembic 025).

(platform, status) and (user_id, created_at) are built first; the single-column indexes
they lead with are then redundant and dropped. Concurrent builds and drops; reversing
restores the legacy indexes by name.
"""

from django.db import migrations

from database.online import add_index, remove_index


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("content", "0008_target_defaults_columns_and_rules"),
    ]

    operations = [
        add_index(
            "contentlog",
            "content_logs",
            "content_logs_platform_status_idx",
            ["platform", "status"],
        ),
        add_index(
            "contentlog",
            "content_logs",
            "content_logs_user_id_created_at_idx",
            ["user", "created_at"],
            ["user_id", "created_at"],
        ),
        # Prefixes of the two above.
        remove_index("contentlog", "content_logs", "ix_content_logs_platform", ["platform"]),
        remove_index("contentlog", "content_logs", "ix_content_logs_user_id", ["user_id"]),
    ]
