"""Index hygiene on memories: drop the indexes another index already covers.

Concurrent drops; reversing rebuilds the legacy indexes by name.
"""

from django.db import migrations

from database.online import DropIndex
from database.operations import SeparateDatabaseAndState


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("research", "0003_memories_company_knowledge_public_id"),
    ]

    operations = [
        # Duplicates the primary key.
        SeparateDatabaseAndState(
            database_operations=[DropIndex("memories", "ix_memories_id", ["id"])],
            state_operations=[migrations.RemoveIndex("memory", "ix_memories_id")],
        ),
        # A prefix of ix_memories_user_created.
        SeparateDatabaseAndState(
            database_operations=[DropIndex("memories", "ix_memories_user_id", ["user_id"])],
            state_operations=[migrations.RemoveIndex("memory", "ix_memories_user_id")],
        ),
    ]
