"""The composite indexes company_knowledge is missing (TARGET_SCHEMA.md §4).

(user_id, topic) and (usage_count, last_used_at) are built first; the single-column
indexes they lead with are then redundant and dropped. Concurrent builds and drops;
reversing restores the legacy indexes by name.
"""

from django.db import migrations, models

from database.online import CreateIndex, DropIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("research", "0006_target_defaults_columns_and_rules"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "company_knowledge",
                    "company_knowledge_user_id_topic_idx",
                    ["user_id", "topic"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "companyknowledge",
                    models.Index(
                        fields=["user", "topic"], name="company_knowledge_user_id_topic_idx"
                    ),
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "company_knowledge",
                    "company_knowledge_usage_count_last_used_at_idx",
                    ["usage_count", "last_used_at"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "companyknowledge",
                    models.Index(
                        fields=["usage_count", "last_used_at"],
                        name="company_knowledge_usage_count_last_used_at_idx",
                    ),
                ),
            ],
        ),
        # A prefix of company_knowledge_user_id_topic_idx.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndex("company_knowledge", "ix_company_knowledge_user_id", ["user_id"])
            ],
            state_operations=[
                migrations.RemoveIndex("companyknowledge", "ix_company_knowledge_user_id")
            ],
        ),
        # A prefix of company_knowledge_usage_count_last_used_at_idx.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndex("company_knowledge", "ix_company_knowledge_usage_count", ["usage_count"])
            ],
            state_operations=[
                migrations.RemoveIndex("companyknowledge", "ix_company_knowledge_usage_count")
            ],
        ),
    ]
