"""Add ``public_id`` to memories and company_knowledge, and their json columns to jsonb, online.

Nullable column with a ``gen_random_uuid()`` default (new rows are filled at once), batched,
resumable backfill of the existing rows, unique index built concurrently and attached as
``<table>_public_id_key``, NOT NULL through a validated CHECK. Non-atomic: every batch and
step commits on its own; a re-run after an interruption resumes.

Each table is rewritten once (``RewriteOnce``): the public_id backfill and the json to
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
        ("research", "0002_research_tables"),
    ]

    operations = [
        RewriteOnce(
            "memory",
            [
                *add_public_id("memory", "memories"),
                OnlineAlterField(
                    "memory", "memory_metadata", models.JSONField(db_default={}, null=True)
                ),
                OnlineAlterField("memory", "tags", models.JSONField(db_default=[], null=True)),
            ],
        ),
        RewriteOnce(
            "companyknowledge",
            [
                *add_public_id("companyknowledge", "company_knowledge"),
                OnlineAlterField(
                    "companyknowledge", "keywords", models.JSONField(db_default=[], null=True)
                ),
                OnlineAlterField(
                    "companyknowledge", "tags", models.JSONField(db_default=[], null=True)
                ),
                OnlineAlterField(
                    "companyknowledge", "embedding_vector", models.JSONField(null=True)
                ),
                OnlineAlterField(
                    "companyknowledge",
                    "platforms",
                    models.JSONField(db_default=["facebook", "instagram", "twitter"], null=True),
                ),
            ],
        ),
    ]
