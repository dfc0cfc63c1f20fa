"""json to jsonb and timestamp to timestamptz, online (R-8, R-9, D10): OnlineAlterField's recipes.

The columns D1 keeps as they are (content_logs.metadata and scheduled_time, social_responses,
inbox_settings, knowledge_base_entries) are left alone. Non-atomic and resumable.

The json columns of social_interactions and of response_templates are converted in one
pass per table (``RewriteOnce``): each row written once. social_platform_connections'
are converted with its public_id (social.0003).
"""

from django.db import migrations, models

from database.online.recipes import OnlineAlterField, RewriteOnce


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0004_social_index_hygiene"),
    ]

    operations = [
        RewriteOnce(
            "socialinteraction",
            [
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
                    "socialinteraction",
                    "platform_metadata",
                    models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
        RewriteOnce(
            "responsetemplate",
            [
                OnlineAlterField(
                    "responsetemplate",
                    "trigger_conditions",
                    models.JSONField(db_default={}, null=True),
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
            ],
        ),
        OnlineAlterField(
            "interactionresponse", "media_urls", models.JSONField(db_default=[], null=True)
        ),
    ]
