"""Add ``public_id`` to users, admin_users and notifications, online; notifications' json to
jsonb and its content_id to text.

Each table gets a nullable column with a ``gen_random_uuid()`` default (new rows are filled
at once), a batched, resumable backfill of the existing rows, a unique index built
concurrently and attached as ``<table>_public_id_key``, and NOT NULL through a validated
CHECK. Non-atomic: each batch and each step commits on its own, and a re-run after an
interruption resumes.

notifications is rewritten once (``RewriteOnce``): the public_id backfill, the json to jsonb
shadow column of the conversion (R-8, D10; duplicate-key values archived raw first) and the
text shadow column of ``content_id`` share one batched UPDATE per key range, one trigger and
one swap, so each row is written once rather than once per column.

``content_id`` stays a soft reference (TARGET_SCHEMA.md §4, R-10), but as text: the platform
stores post ids and UUID strings in it. The integers are kept as their text; backwards, a
value that is not an integer any more is archived before it goes.
"""

from django.db import migrations, models

from database.online.conversions import ChangeColumnType
from database.online.ddl import add_public_id
from database.online.operations import SeparateDatabaseAndState
from database.online.recipes import OnlineAlterField, RewriteOnce

INTEGER_TEXT = "CASE WHEN {value} ~ '^-?[0-9]{{1,9}}$' THEN {value}::integer END"


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
                SeparateDatabaseAndState(
                    database_operations=[
                        ChangeColumnType(
                            "notifications",
                            "content_id",
                            "character varying",
                            reverse_type="integer",
                            reverse_using=INTEGER_TEXT,
                        ),
                    ],
                    state_operations=[
                        migrations.AlterField(
                            "notification", "content_id", models.CharField(null=True)
                        ),
                    ],
                ),
            ],
        ),
    ]
