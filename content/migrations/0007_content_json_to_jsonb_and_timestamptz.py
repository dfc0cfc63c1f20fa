"""Modernise column types online: json to jsonb, timestamp to timestamptz (R-8, R-9, D10).

Each json column is rebuilt as jsonb through a trigger-synced shadow column, backfilled in
batches and swapped in with catalog-only statements; values with duplicate keys are
archived raw first. Naive timestamps become timestamptz, read as UTC, without a table
rewrite; their indexes are rebuilt concurrently. The legacy columns kept as they are by
D1 (content_logs.metadata and scheduled_time, social_responses, inbox_settings,
knowledge_base_entries) are left alone. Non-atomic and resumable.
"""

import django.db.models.functions.datetime
from django.db import migrations, models

import database.conversions
from database.operations import SeparateDatabaseAndState


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("content", "0006_content_index_hygiene"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertToTimestamptz(
                    table="content_logs",
                    column="published_at",
                    indexes=[],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="contentlog",
                    name="published_at",
                    field=models.DateTimeField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertToTimestamptz(
                    table="content_logs",
                    column="created_at",
                    indexes=[("ix_content_logs_created_at", ["created_at"])],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="contentlog",
                    name="created_at",
                    field=models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), null=True
                    ),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertToTimestamptz(
                    table="content_logs",
                    column="updated_at",
                    indexes=[],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="contentlog",
                    name="updated_at",
                    field=models.DateTimeField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="content",
                    column="engagement_data",
                    default="{}",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="content",
                    name="engagement_data",
                    field=models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="content",
                    column="generation_params",
                    default="{}",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="content",
                    name="generation_params",
                    field=models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
    ]
