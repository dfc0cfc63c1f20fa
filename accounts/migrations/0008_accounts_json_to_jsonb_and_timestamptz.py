"""json to jsonb and timestamp to timestamptz, online (R-8, R-9, D10): OnlineAlterField's recipes.

The columns D1 keeps as they are (content_logs.metadata and scheduled_time, social_responses,
inbox_settings, knowledge_base_entries) are left alone. Non-atomic and resumable.

user_settings' eleven json columns are converted in one pass (``RewriteOnce``): each row
written once. notifications' json column is converted with its public_id (accounts.0004).
"""

import django.db.models.functions.datetime
from django.db import migrations, models

from database.online.recipes import OnlineAlterField, RewriteOnce


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0007_retire_registration_keys"),
    ]

    operations = [
        OnlineAlterField("user", "created_at", models.DateTimeField(null=True)),
        OnlineAlterField("user", "updated_at", models.DateTimeField(null=True)),
        OnlineAlterField("user", "email_verification_sent_at", models.DateTimeField(null=True)),
        OnlineAlterField("user", "password_reset_sent_at", models.DateTimeField(null=True)),
        OnlineAlterField("user", "subscription_end_date", models.DateTimeField(null=True)),
        OnlineAlterField("notification", "read_at", models.DateTimeField(null=True)),
        OnlineAlterField(
            "notification",
            "created_at",
            models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), null=True),
        ),
        OnlineAlterField("notification", "expires_at", models.DateTimeField(null=True)),
        RewriteOnce(
            "usersettings",
            [
                OnlineAlterField(
                    "usersettings",
                    "preferred_platforms",
                    models.JSONField(db_default=["twitter", "instagram"], null=True),
                ),
                OnlineAlterField(
                    "usersettings",
                    "posting_times",
                    models.JSONField(
                        db_default={"instagram": "10:00", "twitter": "09:00"}, null=True
                    ),
                ),
                OnlineAlterField(
                    "usersettings", "connected_accounts", models.JSONField(null=True)
                ),
                OnlineAlterField(
                    "usersettings",
                    "business_days",
                    models.JSONField(
                        db_default=["monday", "tuesday", "wednesday", "thursday", "friday"],
                        null=True,
                    ),
                ),
                OnlineAlterField(
                    "usersettings",
                    "escalation_keywords",
                    models.JSONField(
                        db_default=["complaint", "lawsuit", "refund", "angry", "terrible"],
                        null=True,
                    ),
                ),
                OnlineAlterField(
                    "usersettings",
                    "excluded_response_keywords",
                    models.JSONField(db_default=["spam", "bot", "fake"], null=True),
                ),
                OnlineAlterField(
                    "usersettings",
                    "image_mood",
                    models.JSONField(db_default=["professional", "clean"], null=True),
                ),
                OnlineAlterField(
                    "usersettings", "brand_keywords", models.JSONField(db_default=[], null=True)
                ),
                OnlineAlterField(
                    "usersettings", "avoid_list", models.JSONField(db_default=[], null=True)
                ),
                OnlineAlterField(
                    "usersettings",
                    "preferred_image_style",
                    models.JSONField(
                        db_default={
                            "color_temperature": "neutral",
                            "composition": "rule_of_thirds",
                            "lighting": "natural",
                        },
                        null=True,
                    ),
                ),
                OnlineAlterField(
                    "usersettings",
                    "custom_image_prompts",
                    models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
    ]
