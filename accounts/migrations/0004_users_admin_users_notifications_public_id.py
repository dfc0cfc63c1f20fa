"""Add ``public_id`` to users, admin_users and notifications, online; notifications' json to jsonb.

Each table gets a nullable column with a ``gen_random_uuid()`` default (new rows are filled
at once), a batched, resumable backfill of the existing rows, a unique index built
concurrently and attached as ``<table>_public_id_key``, and NOT NULL through a validated
CHECK. Non-atomic: each batch and each step commits on its own, and a re-run after an
interruption resumes.

notifications is rewritten once (``RewriteOnce``): the public_id backfill and the json to
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
        ("accounts", "0003_seed_platform_configs"),
    ]

    operations = [
        *add_public_id("user", "users"),
        *add_public_id("adminuser", "admin_users"),
        RewriteOnce(
            "notification",
            [
                *add_public_id("notification", "notifications"),
                OnlineAlterField(
                    "notification", "notification_metadata", models.JSONField(null=True)
                ),
            ],
        ),
    ]
