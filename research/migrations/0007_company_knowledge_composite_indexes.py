"""The composite indexes company_knowledge is missing (TARGET_SCHEMA.md §4).

(user_id, topic) and (usage_count, last_used_at) are built first; the single-column
indexes they lead with are then redundant and dropped. Concurrent builds and drops;
reversing restores the legacy indexes by name.
"""

from django.db import migrations

from database.online import add_index, remove_index


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("research", "0006_target_defaults_columns_and_rules"),
    ]

    operations = [
        add_index(
            "companyknowledge",
            "company_knowledge",
            "company_knowledge_user_id_topic_idx",
            ["user", "topic"],
            ["user_id", "topic"],
        ),
        add_index(
            "companyknowledge",
            "company_knowledge",
            "company_knowledge_usage_count_last_used_at_idx",
            ["usage_count", "last_used_at"],
        ),
        # Prefixes of the two above.
        remove_index(
            "companyknowledge", "company_knowledge", "ix_company_knowledge_user_id", ["user_id"]
        ),
        remove_index(
            "companyknowledge",
            "company_knowledge",
            "ix_company_knowledge_usage_count",
            ["usage_count"],
        ),
    ]
