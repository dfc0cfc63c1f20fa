"""Move every legacy serial sequence past its column's highest id (sample_data P2).

Production's content_logs_id_seq hands out ids that rows already hold, so the platform's
next inserts there fail with duplicate keys. Each legacy table with a serial key is checked
under a brief SHARE lock (writes wait for two index lookups) and its sequence moved only
where it is behind; nothing else changes. Backwards leaves the sequences where they are.
"""

from django.db import migrations

from database.online.ddl import MoveSequencePastMax

SERIAL_TABLES = [
    "admin_users",
    "company_knowledge",
    "content",
    "content_logs",
    "inbox_settings",
    "knowledge_base_entries",
    "memories",
    "notifications",
    "social_platform_connections",
    "social_responses",
    "user_settings",
    "users",
]


class Migration(migrations.Migration):
    # One short transaction a table: no lock waits for the other tables.
    atomic = False

    dependencies = [
        ("database", "0002_new_tables_delete_rules_in_the_database"),
    ]

    operations = [MoveSequencePastMax(table) for table in SERIAL_TABLES]
