"""Index hygiene on the social tables: drop indexes that a unique constraint already
covers, and index the foreign keys that had none (connection, assignee, template).

Concurrent builds and drops; reversing restores the legacy indexes by name.
"""

from django.db import migrations, models

from database.recipes import OnlineAddIndex, OnlineRemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0003_social_platform_connections_public_id"),
    ]

    operations = [
        # A prefix of the (user_id, platform) unique constraint.
        OnlineRemoveIndex("socialplatformconnection", "ix_social_platform_connections_user_id"),
        # A prefix of the (platform, external_id) unique constraint.
        OnlineRemoveIndex("socialinteraction", "ix_social_interactions_platform"),
        # Duplicates the inbox_settings_user_id_key unique constraint.
        OnlineRemoveIndex("inboxsettings", "idx_inbox_settings_user_id"),
        OnlineAddIndex(
            "socialinteraction",
            models.Index(fields=["connection"], name="social_interactions_connection_id_idx"),
        ),
        OnlineAddIndex(
            "socialinteraction",
            models.Index(fields=["assigned_to"], name="social_interactions_assigned_to_idx"),
        ),
        OnlineAddIndex(
            "interactionresponse",
            models.Index(fields=["template"], name="interaction_responses_template_id_idx"),
        ),
    ]
