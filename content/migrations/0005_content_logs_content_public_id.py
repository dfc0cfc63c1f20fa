"""Add ``public_id`` to content_logs and content, online; content's json columns to jsonb.

Nullable column with a ``gen_random_uuid()`` default (new rows are filled at once), batched,
resumable backfill of the existing rows, unique index built concurrently and attached as
``<table>_public_id_key``, NOT NULL through a validated CHECK. Non-atomic: every batch and
step commits on its own; a re-run after an interruption resumes.

content is rewritten once (``RewriteOnce``): the public_id backfill and the json to
jsonb shadow columns of the conversions (R-8, D10; duplicate-key values archived raw
first) share one batched UPDATE per key range, one trigger and one swap, so each row is
written once rather than once per column.
"""

from django.db import migrations, models

from database.online.ddl import add_public_id
from database.online.recipes import OnlineAlterField, RewriteOnce


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("content", "0004_seed_content_categories"),
    ]

    operations = [
        *add_public_id("contentlog", "content_logs"),
        RewriteOnce(
            "content",
            [
                *add_public_id("content", "content"),
                OnlineAlterField(
                    "content", "engagement_data", models.JSONField(db_default={}, null=True)
                ),
                OnlineAlterField(
                    "content", "generation_params", models.JSONField(db_default={}, null=True)
                ),
            ],
        ),
    ]
