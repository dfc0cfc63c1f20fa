"""Index hygiene on content: drop what duplicates another index, index the memory FK.

Concurrent builds and drops; reversing restores the legacy indexes by name.
"""

from django.db import migrations, models

from database.recipes import OnlineAddIndex, OnlineRemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("content", "0005_content_logs_content_public_id"),
    ]

    operations = [
        # Duplicates the primary key.
        OnlineRemoveIndex("content", "ix_content_id"),
        # A prefix of ix_content_user_created.
        OnlineRemoveIndex("content", "ix_content_user_id"),
        OnlineAddIndex("content", models.Index(fields=["memory"], name="content_memory_id_idx")),
    ]
