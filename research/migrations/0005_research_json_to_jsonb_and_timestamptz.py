"""Modernise column types online: json to jsonb, timestamp to timestamptz (R-8, R-9, D10).

Each json column is rebuilt as jsonb through a trigger-synced shadow column, backfilled in
batches and swapped in with catalog-only statements; values with duplicate keys are
archived raw first. Naive timestamps become timestamptz, read as UTC, without a table
rewrite; their indexes are rebuilt concurrently. The legacy columns kept as they are by
D1 (content_logs.metadata and scheduled_time, social_responses, inbox_settings,
knowledge_base_entries) are left alone. Non-atomic and resumable.
"""

from django.db import migrations, models

import database.conversions
from database.operations import SeparateDatabaseAndState


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("research", "0004_research_index_hygiene"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="company_knowledge",
                    column="keywords",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="companyknowledge",
                    name="keywords",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="company_knowledge",
                    column="tags",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="companyknowledge",
                    name="tags",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="company_knowledge",
                    column="embedding_vector",
                    default=None,
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="companyknowledge",
                    name="embedding_vector",
                    field=models.JSONField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="company_knowledge",
                    column="platforms",
                    default='["facebook", "instagram", "twitter"]',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="companyknowledge",
                    name="platforms",
                    field=models.JSONField(
                        db_default=["facebook", "instagram", "twitter"], null=True
                    ),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="memories",
                    column="memory_metadata",
                    default="{}",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="memory",
                    name="memory_metadata",
                    field=models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="memories",
                    column="tags",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="memory",
                    name="tags",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
    ]
