"""json to jsonb and timestamp to timestamptz, online (R-8, R-9, D10): OnlineAlterField's recipes.

The columns D1 keeps as they are (content_logs.metadata and scheduled_time, social_responses,
inbox_settings, knowledge_base_entries) are left alone. Non-atomic and resumable.
"""

from django.db import migrations, models

from database.recipes import OnlineAlterField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("research", "0004_research_index_hygiene"),
    ]

    operations = [
        OnlineAlterField(
            "companyknowledge", "keywords", models.JSONField(db_default=[], null=True)
        ),
        OnlineAlterField("companyknowledge", "tags", models.JSONField(db_default=[], null=True)),
        OnlineAlterField("companyknowledge", "embedding_vector", models.JSONField(null=True)),
        OnlineAlterField(
            "companyknowledge",
            "platforms",
            models.JSONField(db_default=["facebook", "instagram", "twitter"], null=True),
        ),
        OnlineAlterField("memory", "memory_metadata", models.JSONField(db_default={}, null=True)),
        OnlineAlterField("memory", "tags", models.JSONField(db_default=[], null=True)),
    ]
