"""Add ``public_id`` to social_platform_connections, online.

Nullable column with a ``gen_random_uuid()`` default (new rows are filled at once), batched,
resumable backfill of the existing rows, unique index built concurrently and attached as
``<table>_public_id_key``, NOT NULL through a validated CHECK. Non-atomic: every batch and
step commits on its own; a re-run after an interruption resumes.
"""

from django.db import migrations

from database.online.ddl import add_public_id


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0002_social_publishing_tables"),
    ]

    operations = [
        *add_public_id("socialplatformconnection", "social_platform_connections"),
    ]
