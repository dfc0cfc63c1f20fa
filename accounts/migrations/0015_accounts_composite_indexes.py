"""The composite indexes of Alembic 025 that production lacks (TARGET_SCHEMA.md §4).

notifications gets (user_id, is_read) and (user_id, notification_type), which make
ix_notifications_user_id a redundant prefix, so it goes. Its (created_at DESC) is not built:
ix_notifications_created_at already serves that order (a B-tree is read in both directions).
user_settings gets (brand_voice, industry_type). Concurrent builds and drops; backwards
restores the legacy index by name.
"""

from django.db import migrations, models

from database.recipes import OnlineAddIndex, OnlineRemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0014_hash_two_factor_backup_codes"),
    ]

    operations = [
        OnlineAddIndex(
            "notification",
            models.Index(fields=["user", "is_read"], name="notifications_user_id_is_read_idx"),
        ),
        OnlineAddIndex(
            "notification",
            models.Index(
                fields=["user", "notification_type"],
                name="notifications_user_id_notification_type_idx",
            ),
        ),
        OnlineRemoveIndex("notification", "ix_notifications_user_id"),
        OnlineAddIndex(
            "usersettings",
            models.Index(
                fields=["brand_voice", "industry_type"],
                name="user_settings_brand_voice_industry_type_idx",
            ),
        ),
    ]
