"""The composite indexes company_knowledge is missing (TARGET_SCHEMA.md §4).

(user_id, topic) and (usage_count, last_used_at) are built first; the single-column
indexes they lead with are then redundant and dropped. Concurrent builds and drops;
reversing restores the legacy indexes by name.
"""

from django.db import migrations, models

from database.online.recipes import OnlineAddIndex, OnlineRemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("research", "0005_target_defaults_columns_and_rules"),
    ]

    operations = [
        OnlineAddIndex(
            "companyknowledge",
            models.Index(fields=["user", "topic"], name="company_knowledge_user_id_topic_idx"),
        ),
        OnlineAddIndex(
            "companyknowledge",
            models.Index(
                fields=["usage_count", "last_used_at"],
                name="company_knowledge_usage_count_last_used_at_idx",
            ),
        ),
        # Prefixes of the two above.
        OnlineRemoveIndex("companyknowledge", "ix_company_knowledge_user_id"),
        OnlineRemoveIndex("companyknowledge", "ix_company_knowledge_usage_count"),
    ]
