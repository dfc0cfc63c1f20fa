"""Index hygiene on content: drop what duplicates another index, index the memory FK.

Concurrent builds and drops; reversing restores the legacy indexes by name.
"""

from django.db import migrations, models

from database.online import CreateIndex, DropIndex
from database.operations import SeparateDatabaseAndState


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("content", "0005_content_logs_content_public_id"),
    ]

    operations = [
        # Duplicates the primary key.
        SeparateDatabaseAndState(
            database_operations=[DropIndex("content", "ix_content_id", ["id"])],
            state_operations=[migrations.RemoveIndex("content", "ix_content_id")],
        ),
        # A prefix of ix_content_user_created.
        SeparateDatabaseAndState(
            database_operations=[DropIndex("content", "ix_content_user_id", ["user_id"])],
            state_operations=[migrations.RemoveIndex("content", "ix_content_user_id")],
        ),
        SeparateDatabaseAndState(
            database_operations=[CreateIndex("content", "content_memory_id_idx", ["memory_id"])],
            state_operations=[
                migrations.AddIndex(
                    "content", models.Index(fields=["memory"], name="content_memory_id_idx")
                ),
            ],
        ),
    ]
