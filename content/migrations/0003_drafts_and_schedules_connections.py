"""Link content_drafts and content_schedules to social_connections.

A separate step because content and social reference each other: social_posts points at
content_items (created by 0002), and these two tables point at social_connections (created
by social 0002). The column is NOT NULL without a default, which is safe here only because
both tables were created empty by 0002.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("content", "0002_content_planning_tables"),
        ("organizations", "0002_seed_roles_and_permissions"),
        ("social", "0002_social_publishing_tables"),
    ]

    operations = [
        migrations.AddField(
            model_name="contentdraft",
            name="connection",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="drafts",
                to="social.socialconnection",
            ),
        ),
        migrations.AddField(
            model_name="contentschedule",
            name="connection",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="schedules",
                to="social.socialconnection",
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
