"""Index hygiene on the social tables: drop indexes that a unique constraint already
covers, and index the foreign keys that had none (connection, assignee, template).

Concurrent builds and drops; reversing restores the legacy indexes by name.
"""

from django.db import migrations, models

from database.online import CreateIndex, DropIndex
from database.operations import SeparateDatabaseAndState


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0003_social_platform_connections_public_id"),
    ]

    operations = [
        # A prefix of the (user_id, platform) unique constraint.
        SeparateDatabaseAndState(
            database_operations=[
                DropIndex(
                    "social_platform_connections",
                    "ix_social_platform_connections_user_id",
                    ["user_id"],
                )
            ],
            state_operations=[
                migrations.RemoveIndex(
                    "socialplatformconnection", "ix_social_platform_connections_user_id"
                )
            ],
        ),
        # A prefix of the (platform, external_id) unique constraint.
        SeparateDatabaseAndState(
            database_operations=[
                DropIndex("social_interactions", "ix_social_interactions_platform", ["platform"])
            ],
            state_operations=[
                migrations.RemoveIndex("socialinteraction", "ix_social_interactions_platform")
            ],
        ),
        # Duplicates the inbox_settings_user_id_key unique constraint.
        SeparateDatabaseAndState(
            database_operations=[
                DropIndex("inbox_settings", "idx_inbox_settings_user_id", ["user_id"])
            ],
            state_operations=[
                migrations.RemoveIndex("inboxsettings", "idx_inbox_settings_user_id")
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "social_interactions",
                    "social_interactions_connection_id_idx",
                    ["connection_id"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "socialinteraction",
                    models.Index(
                        fields=["connection"], name="social_interactions_connection_id_idx"
                    ),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "social_interactions", "social_interactions_assigned_to_idx", ["assigned_to"]
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "socialinteraction",
                    models.Index(
                        fields=["assigned_to"], name="social_interactions_assigned_to_idx"
                    ),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "interaction_responses",
                    "interaction_responses_template_id_idx",
                    ["template_id"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "interactionresponse",
                    models.Index(
                        fields=["template"], name="interaction_responses_template_id_idx"
                    ),
                ),
            ],
        ),
    ]
