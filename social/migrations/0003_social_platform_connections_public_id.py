"""Add ``public_id`` to social_platform_connections, and its json columns to jsonb, online.

Nullable column with a ``gen_random_uuid()`` default (new rows are filled at once), batched,
resumable backfill of the existing rows, unique index built concurrently and attached as
``<table>_public_id_key``, NOT NULL through a validated CHECK. Non-atomic: every batch and
step commits on its own; a re-run after an interruption resumes.

The table is rewritten once (``RewriteOnce``): the public_id backfill and the json to
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
        ("social", "0002_social_publishing_tables"),
    ]

    operations = [
        RewriteOnce(
            "socialplatformconnection",
            [
                *add_public_id("socialplatformconnection", "social_platform_connections"),
                OnlineAlterField(
                    "socialplatformconnection",
                    "platform_metadata",
                    models.JSONField(db_default={}, null=True),
                ),
                OnlineAlterField(
                    "socialplatformconnection",
                    "preferred_posting_times",
                    models.JSONField(db_default={}, null=True),
                ),
                OnlineAlterField(
                    "socialplatformconnection",
                    "content_filters",
                    models.JSONField(db_default={}, null=True),
                ),
            ],
        ),
    ]
