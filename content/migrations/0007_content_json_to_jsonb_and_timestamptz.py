"""json to jsonb and timestamp to timestamptz, online (R-8, R-9, D10): OnlineAlterField's recipes.

The columns D1 keeps as they are (content_logs.metadata and scheduled_time, social_responses,
inbox_settings, knowledge_base_entries) are left alone. Non-atomic and resumable.

content's json columns are converted with its public_id, in one pass (content.0005).
"""

import django.db.models.functions.datetime
from django.db import migrations, models

from database.online.recipes import OnlineAlterField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("content", "0006_content_index_hygiene"),
    ]

    operations = [
        OnlineAlterField("contentlog", "published_at", models.DateTimeField(null=True)),
        OnlineAlterField(
            "contentlog",
            "created_at",
            models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), null=True),
        ),
        OnlineAlterField("contentlog", "updated_at", models.DateTimeField(null=True)),
    ]
