"""content_drafts and content_schedules, created whole: each belongs to a social_connections
row, and social_connections comes from social 0002, which itself needs content_items (0002).

Created in one transaction with their connection column, so that no lock is ever taken on a
table the platform can already see (adding a NOT NULL column to a committed table locked it
ACCESS EXCLUSIVE for up to 79 ms at 5M content_logs rows).
"""

import uuid

import django.contrib.postgres.functions
import django.db.models.deletion
import django.db.models.functions.datetime
from django.db import migrations, models

import database.fields


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0002_content_planning_tables"),
        ("organizations", "0002_seed_roles_and_permissions"),
        ("social", "0002_social_publishing_tables"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContentDraft",
            fields=[
                (
                    "id",
                    database.fields.UUIDPrimaryKey(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("content", models.TextField()),
                ("content_hash", models.CharField(max_length=64)),
                ("media_urls", models.JSONField(db_default=[])),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("created", "Created"),
                            ("verified", "Verified"),
                            ("failed", "Failed"),
                        ],
                        db_default="created",
                        max_length=50,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                ("verified_at", models.DateTimeField(null=True)),
                ("error_message", models.TextField(null=True)),
                ("organization_id", models.UUIDField()),
                (
                    "connection",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="drafts",
                        to="social.socialconnection",
                    ),
                ),
            ],
            options={
                "db_table": "content_drafts",
                "db_table_comment": "Drafts that verify an organization's connection can publish.",
            },
        ),
        migrations.CreateModel(
            name="ContentSchedule",
            fields=[
                (
                    "id",
                    database.fields.UUIDPrimaryKey(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("content", models.TextField()),
                ("content_hash", models.CharField(max_length=64)),
                ("media_urls", models.JSONField(db_default=[])),
                ("scheduled_for", models.DateTimeField(null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("scheduled", "Scheduled"),
                            ("publishing", "Publishing"),
                            ("published", "Published"),
                            ("failed", "Failed"),
                        ],
                        db_default="scheduled",
                        max_length=50,
                    ),
                ),
                ("published_at", models.DateTimeField(null=True)),
                ("platform_post_id", models.CharField(max_length=255, null=True)),
                ("error_message", models.TextField(null=True)),
                ("idempotency_key", models.CharField(max_length=255, null=True)),
                (
                    "created_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        auto_now=True, db_default=django.db.models.functions.datetime.Now()
                    ),
                ),
                ("organization_id", models.UUIDField()),
                (
                    "connection",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="schedules",
                        to="social.socialconnection",
                    ),
                ),
            ],
            options={
                "db_table": "content_schedules",
                "db_table_comment": "Posts an organization has scheduled on one of its connections.",
            },
        ),
        migrations.AddIndex(
            model_name="contentdraft",
            index=models.Index(fields=["content_hash"], name="content_drafts_content_hash_idx"),
        ),
        migrations.AddConstraint(
            model_name="contentdraft",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["created", "verified", "failed"])),
                name="content_drafts_status_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="contentschedule",
            index=models.Index(
                fields=["scheduled_for"], name="content_schedules_scheduled_for_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="contentschedule",
            index=models.Index(fields=["status"], name="content_schedules_status_idx"),
        ),
        migrations.AddConstraint(
            model_name="contentschedule",
            constraint=models.UniqueConstraint(
                fields=("organization_id", "idempotency_key"),
                name="content_schedules_organization_id_idempotency_key_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="contentschedule",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["scheduled", "publishing", "published", "failed"])
                ),
                name="content_schedules_status_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="contentdraft",
            index=models.Index(
                fields=["organization_id", "connection"], name="idx_content_drafts_org_connection"
            ),
        ),
        migrations.AddIndex(
            model_name="contentdraft",
            index=models.Index(fields=["connection"], name="content_drafts_connection_id_idx"),
        ),
        migrations.AddIndex(
            model_name="contentschedule",
            index=models.Index(
                fields=["organization_id", "connection"],
                name="idx_content_schedules_org_connection",
            ),
        ),
        migrations.AddIndex(
            model_name="contentschedule",
            index=models.Index(fields=["connection"], name="content_schedules_connection_id_idx"),
        ),
    ]
