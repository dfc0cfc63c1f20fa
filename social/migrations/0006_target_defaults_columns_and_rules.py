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

from database.online.recipes import OnlineAddField, OnlineAlterField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0009_target_defaults_columns_and_rules"),
        ("social", "0005_social_json_to_jsonb_and_timestamptz"),
    ]

    operations = [
        # The new columns in production's column order (a fresh build equals an adopted one).
        OnlineAddField("interactionresponse", "retry_count", models.IntegerField(db_default=0)),
        OnlineAlterField(
            "interactionresponse", "status", models.CharField(db_default="pending", null=True)
        ),
        # auto_now is Python's: Django's own AlterField changes the state and runs nothing.
        migrations.AlterField(
            "interactionresponse", "updated_at", models.DateTimeField(auto_now=True, null=True)
        ),
        OnlineAddField("responsetemplate", "formality_level", models.IntegerField(db_default=5)),
        OnlineAddField(
            "responsetemplate", "platform_adaptations", models.JSONField(db_default={})
        ),
        OnlineAddField("responsetemplate", "success_rate", models.FloatField(db_default=0.0)),
        OnlineAddField("responsetemplate", "avg_response_time", models.FloatField(db_default=0.0)),
        OnlineAlterField(
            "responsetemplate", "priority", models.IntegerField(db_default=50, null=True)
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
