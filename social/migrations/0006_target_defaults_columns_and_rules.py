"""social: the code's columns and defaults on the reply tables; optional links set NULL.

- interaction_responses: retry_count (0), status defaults to 'pending' (R-18); existing
  rows keep their values. updated_at is refreshed by the ORM (auto_now).
- response_templates: formality_level, platform_adaptations, success_rate,
  avg_response_time with constant defaults (catalog changes); priority defaults to 50.
  avg_satisfaction stays: whether to carry it into success_rate is open (O-9).
- interaction_responses.template_id, social_interactions.connection_id and assigned_to
  become ON DELETE SET NULL through validated twin constraints.
"""

import django.db.models.deletion
from django.db import migrations, models

import database.online
from database.operations import SeparateDatabaseAndState
from database.recipes import OnlineAlterField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0009_target_defaults_columns_and_rules"),
        ("social", "0005_social_json_to_jsonb_and_timestamptz"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                database.online.RunDDL(
                    [
                        "ALTER TABLE interaction_responses "
                        "ADD COLUMN IF NOT EXISTS retry_count integer NOT NULL DEFAULT 0, "
                        "ALTER COLUMN status SET DEFAULT 'pending'",
                        "ALTER TABLE response_templates "
                        "ADD COLUMN IF NOT EXISTS formality_level integer NOT NULL DEFAULT 5, "
                        "ADD COLUMN IF NOT EXISTS platform_adaptations jsonb NOT NULL "
                        "DEFAULT '{}'::jsonb, "
                        "ADD COLUMN IF NOT EXISTS success_rate double precision NOT NULL "
                        "DEFAULT 0.0, "
                        "ADD COLUMN IF NOT EXISTS avg_response_time double precision NOT NULL "
                        "DEFAULT 0.0, "
                        "ALTER COLUMN priority SET DEFAULT 50",
                    ],
                    reverse_statements=[
                        "ALTER TABLE response_templates ALTER COLUMN priority SET DEFAULT 1, "
                        "DROP COLUMN IF EXISTS avg_response_time, "
                        "DROP COLUMN IF EXISTS success_rate, "
                        "DROP COLUMN IF EXISTS platform_adaptations, "
                        "DROP COLUMN IF EXISTS formality_level",
                        "ALTER TABLE interaction_responses "
                        "ALTER COLUMN status SET DEFAULT 'draft'::character varying, "
                        "DROP COLUMN IF EXISTS retry_count",
                    ],
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="interactionresponse",
                    name="retry_count",
                    field=models.IntegerField(db_default=0),
                ),
                migrations.AddField(
                    model_name="responsetemplate",
                    name="avg_response_time",
                    field=models.FloatField(db_default=0.0),
                ),
                migrations.AddField(
                    model_name="responsetemplate",
                    name="formality_level",
                    field=models.IntegerField(db_default=5),
                ),
                migrations.AddField(
                    model_name="responsetemplate",
                    name="platform_adaptations",
                    field=models.JSONField(db_default={}),
                ),
                migrations.AddField(
                    model_name="responsetemplate",
                    name="success_rate",
                    field=models.FloatField(db_default=0.0),
                ),
                migrations.AlterField(
                    model_name="interactionresponse",
                    name="status",
                    field=models.CharField(db_default="pending", null=True),
                ),
                migrations.AlterField(
                    model_name="interactionresponse",
                    name="updated_at",
                    field=models.DateTimeField(auto_now=True, null=True),
                ),
                migrations.AlterField(
                    model_name="responsetemplate",
                    name="priority",
                    field=models.IntegerField(db_default=50, null=True),
                ),
            ],
        ),
        OnlineAlterField(
            "interactionresponse",
            "template",
            models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="responses",
                to="social.responsetemplate",
            ),
        ),
        OnlineAlterField(
            "socialinteraction",
            "connection",
            models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="interactions",
                to="social.socialplatformconnection",
            ),
        ),
        OnlineAlterField(
            "socialinteraction",
            "assigned_to",
            models.ForeignKey(
                db_column="assigned_to",
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="assigned_interactions",
                to="accounts.user",
            ),
        ),
    ]
