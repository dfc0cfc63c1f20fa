"""content: user-owned rows cascade with their user (R-31); content outlives its memory.

Each foreign key is switched through a twin constraint added NOT VALID, validated while
writes go on, and renamed into place (OnlineAlterField's delete-rule recipe).
"""

import django.db.models.deletion
from django.db import migrations, models

from database.online.recipes import OnlineAlterField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0009_target_defaults_columns_and_rules"),
        ("content", "0007_content_json_to_jsonb_and_timestamptz"),
        ("research", "0004_research_index_hygiene"),
    ]

    operations = [
        OnlineAlterField(
            "content",
            "user",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="content_items_legacy",
                to="accounts.user",
            ),
        ),
        OnlineAlterField(
            "content",
            "memory",
            models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="generated_content",
                to="research.memory",
            ),
        ),
    ]
