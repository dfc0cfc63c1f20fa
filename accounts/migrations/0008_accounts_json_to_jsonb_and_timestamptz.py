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
        ("accounts", "0007_retire_registration_keys"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertToTimestamptz(
                    table="users",
                    column="created_at",
                    indexes=[],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="user",
                    name="created_at",
                    field=models.DateTimeField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertToTimestamptz(
                    table="users",
                    column="updated_at",
                    indexes=[],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="user",
                    name="updated_at",
                    field=models.DateTimeField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertToTimestamptz(
                    table="users",
                    column="email_verification_sent_at",
                    indexes=[],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="user",
                    name="email_verification_sent_at",
                    field=models.DateTimeField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertToTimestamptz(
                    table="users",
                    column="password_reset_sent_at",
                    indexes=[],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="user",
                    name="password_reset_sent_at",
                    field=models.DateTimeField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertToTimestamptz(
                    table="users",
                    column="subscription_end_date",
                    indexes=[],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="user",
                    name="subscription_end_date",
                    field=models.DateTimeField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="notifications",
                    column="notification_metadata",
                    default=None,
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="notification_metadata",
                    field=models.JSONField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertToTimestamptz(
                    table="notifications",
                    column="read_at",
                    indexes=[],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="read_at",
                    field=models.DateTimeField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertToTimestamptz(
                    table="notifications",
                    column="created_at",
                    indexes=[("ix_notifications_created_at", ["created_at"])],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
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
                    table="notifications",
                    column="expires_at",
                    indexes=[],
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="expires_at",
                    field=models.DateTimeField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="preferred_platforms",
                    default='["twitter", "instagram"]',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="preferred_platforms",
                    field=models.JSONField(db_default=["twitter", "instagram"], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="posting_times",
                    default='{"twitter": "09:00", "instagram": "10:00"}',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="posting_times",
                    field=models.JSONField(
                        db_default={"instagram": "10:00", "twitter": "09:00"}, null=True
                    ),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="connected_accounts",
                    default=None,
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="connected_accounts",
                    field=models.JSONField(null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="business_days",
                    default='["monday", "tuesday", "wednesday", "thursday", "friday"]',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="business_days",
                    field=models.JSONField(
                        db_default=["monday", "tuesday", "wednesday", "thursday", "friday"],
                        null=True,
                    ),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="escalation_keywords",
                    default='["complaint", "lawsuit", "refund", "angry", "terrible"]',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="escalation_keywords",
                    field=models.JSONField(
                        db_default=["complaint", "lawsuit", "refund", "angry", "terrible"],
                        null=True,
                    ),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="excluded_response_keywords",
                    default='["spam", "bot", "fake"]',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="excluded_response_keywords",
                    field=models.JSONField(db_default=["spam", "bot", "fake"], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="image_mood",
                    default='["professional", "clean"]',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="image_mood",
                    field=models.JSONField(db_default=["professional", "clean"], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="brand_keywords",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="brand_keywords",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="avoid_list",
                    default="[]",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="avoid_list",
                    field=models.JSONField(db_default=[], null=True),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="preferred_image_style",
                    default='{"lighting": "natural", "composition": "rule_of_thirds", "color_temperature": "neutral"}',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="preferred_image_style",
                    field=models.JSONField(
                        db_default={
                            "color_temperature": "neutral",
                            "composition": "rule_of_thirds",
                            "lighting": "natural",
                        },
                        null=True,
                    ),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                database.conversions.ConvertJsonToJsonb(
                    table="user_settings",
                    column="custom_image_prompts",
                    default="{}",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="usersettings",
                    name="custom_image_prompts",
                    field=models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
    ]
