"""Add ``public_id`` to users, admin_users and notifications, online.

Each table gets a nullable column with a ``gen_random_uuid()`` default (new rows are filled
at once), a batched, resumable backfill of the existing rows, a unique index built
concurrently and attached as ``<table>_public_id_key``, and NOT NULL through a validated
CHECK. Non-atomic: each batch and each step commits on its own, and a re-run after an
interruption resumes.
"""

from django.db import migrations

from database.online.ddl import add_public_id


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0003_seed_platform_configs"),
    ]

    operations = [
        *add_public_id("user", "users"),
        *add_public_id("adminuser", "admin_users"),
        *add_public_id("notification", "notifications"),
    ]
