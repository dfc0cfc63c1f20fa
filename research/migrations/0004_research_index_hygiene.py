"""Index hygiene on memories: drop the indexes another index already covers.

Concurrent drops; reversing rebuilds the legacy indexes by name.
"""

from django.db import migrations

from database.recipes import OnlineRemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("research", "0003_memories_company_knowledge_public_id"),
    ]

    operations = [
        # Duplicates the primary key.
        OnlineRemoveIndex("memory", "ix_memories_id"),
        # A prefix of ix_memories_user_created.
        OnlineRemoveIndex("memory", "ix_memories_user_id"),
    ]
