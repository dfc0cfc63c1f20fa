"""content: user-owned rows cascade with their user (R-31); content outlives its memory.

Each foreign key is switched through a twin constraint added NOT VALID, validated while
writes go on, and renamed into place (database.online.SetForeignKeyRule).
"""

import django.db.models.deletion
from django.db import migrations, models

import database.online
from database.operations import SeparateDatabaseAndState


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0009_target_defaults_columns_and_rules"),
        ("content", "0007_content_json_to_jsonb_and_timestamptz"),
        ("research", "0005_research_json_to_jsonb_and_timestamptz"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                database.online.SetForeignKeyRule(
                    "content",
                    "content_user_id_fkey",
                    "user_id",
                    "users",
                    rule="CASCADE",
                    previous="NO ACTION",
                ),
                database.online.SetForeignKeyRule(
                    "content",
                    "content_memory_id_fkey",
                    "memory_id",
                    "memories",
                    rule="SET NULL",
                    previous="NO ACTION",
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="content",
                    name="memory",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="generated_content",
                        to="research.memory",
                    ),
                ),
                migrations.AlterField(
                    model_name="content",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="content_items_legacy",
                        to="accounts.user",
                    ),
                ),
            ],
        ),
    ]
