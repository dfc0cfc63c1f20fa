"""json to jsonb and timestamp to timestamptz, online (R-8, R-9, D10): OnlineAlterField's recipes.

The columns D1 keeps as they are (content_logs.metadata and scheduled_time, social_responses,
inbox_settings, knowledge_base_entries) are left alone. Non-atomic and resumable.
"""

from django.db import migrations, models

from database.recipes import OnlineAlterField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0004_social_index_hygiene"),
    ]

    operations = [
        OnlineAlterField(
            "socialplatformconnection",
            "platform_metadata",
            models.JSONField(db_default={}, null=True),
        ),
        OnlineAlterField(
            "socialplatformconnection",
            "preferred_posting_times",
            models.JSONField(db_default={}, null=True),
        ),
        OnlineAlterField(
            "socialplatformconnection",
            "content_filters",
            models.JSONField(db_default={}, null=True),
        ),
        OnlineAlterField(
            "socialinteraction", "media_urls", models.JSONField(db_default=[], null=True)
        ),
        OnlineAlterField(
            "socialinteraction", "hashtags", models.JSONField(db_default=[], null=True)
        ),
        OnlineAlterField(
            "socialinteraction", "mentions", models.JSONField(db_default=[], null=True)
        ),
        OnlineAlterField(
            "socialinteraction", "platform_metadata", models.JSONField(db_default={}, null=True)
        ),
        OnlineAlterField(
            "responsetemplate", "trigger_conditions", models.JSONField(db_default={}, null=True)
        ),
        OnlineAlterField(
            "responsetemplate", "keywords", models.JSONField(db_default=[], null=True)
        ),
        OnlineAlterField(
            "responsetemplate", "platforms", models.JSONField(db_default=[], null=True)
        ),
        OnlineAlterField(
            "responsetemplate", "variables", models.JSONField(db_default=[], null=True)
        ),
        OnlineAlterField(
            "interactionresponse", "media_urls", models.JSONField(db_default=[], null=True)
        ),
    ]
