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
        ("social", "0004_social_index_hygiene"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="social_platform_connections",
                    column="platform_metadata",
                    default="{}",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="socialplatformconnection",
                    name="platform_metadata",
                    field=models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="social_platform_connections",
                    column="preferred_posting_times",
                    default="{}",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="socialplatformconnection",
                    name="preferred_posting_times",
                    field=models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="social_platform_connections",
                    column="content_filters",
                    default="{}",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="socialplatformconnection",
                    name="content_filters",
                    field=models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="social_interactions",
                    column="media_urls",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="socialinteraction",
                    name="media_urls",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="social_interactions",
                    column="hashtags",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="socialinteraction",
                    name="hashtags",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="social_interactions",
                    column="mentions",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="socialinteraction",
                    name="mentions",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="social_interactions",
                    column="platform_metadata",
                    default="{}",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="socialinteraction",
                    name="platform_metadata",
                    field=models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="response_templates",
                    column="trigger_conditions",
                    default="{}",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="responsetemplate",
                    name="trigger_conditions",
                    field=models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="response_templates",
                    column="keywords",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="responsetemplate",
                    name="keywords",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="response_templates",
                    column="platforms",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="responsetemplate",
                    name="platforms",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="response_templates",
                    column="variables",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="responsetemplate",
                    name="variables",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="interaction_responses",
                    column="media_urls",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="interactionresponse",
                    name="media_urls",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
    ]
