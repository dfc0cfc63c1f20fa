"""The composite indexes the social tables are missing (TARGET_SCHEMA.md §4), and the owner
in social_interactions' uniqueness: (platform, external_id) becomes (user_id, platform,
external_id) (R-15).

New indexes are built first, then the single-column indexes they lead with are dropped as
redundant. The new unique constraint is built concurrently and attached before the old one
is dropped, so uniqueness is enforced throughout. Reversing restores the legacy indexes and
constraint by name; while two users hold the same (platform, external_id) it stops there,
with the new constraint still in place, and a re-run once they are resolved completes it.
"""

from django.db import migrations, models

from database.online import (
    AddUniqueConstraint,
    DropUniqueConstraint,
    add_index,
    remove_index,
)
from database.operations import SeparateDatabaseAndState


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0007_encrypt_tokens"),
    ]

    operations = [
        # social_platform_connections
        add_index(
            "socialplatformconnection",
            "social_platform_connections",
            "social_platform_connections_is_active_idx",
            ["is_active"],
        ),
        add_index(
            "socialplatformconnection",
            "social_platform_connections",
            "social_platform_connections_platform_platform_user_id_idx",
            ["platform", "platform_user_id"],
        ),
        remove_index(
            "socialplatformconnection",
            "social_platform_connections",
            "ix_social_platform_connections_platform",
            ["platform"],
        ),
        # social_interactions
        add_index(
            "socialinteraction",
            "social_interactions",
            "social_interactions_platform_interaction_type_idx",
            ["platform", "interaction_type"],
        ),
        add_index(
            "socialinteraction",
            "social_interactions",
            "social_interactions_status_priority_score_idx",
            ["status", "priority_score"],
        ),
        add_index(
            "socialinteraction",
            "social_interactions",
            "social_interactions_user_id_received_at_idx",
            ["user", "received_at"],
            ["user_id", "received_at"],
        ),
        # Looser than the constraint it replaces, so the existing rows already satisfy it.
        SeparateDatabaseAndState(
            database_operations=[
                AddUniqueConstraint(
                    "social_interactions",
                    "social_interactions_user_platform_external_id_key",
                    ["user_id", "platform", "external_id"],
                )
            ],
            state_operations=[
                migrations.AddConstraint(
                    "socialinteraction",
                    models.UniqueConstraint(
                        fields=["user", "platform", "external_id"],
                        name="social_interactions_user_platform_external_id_key",
                    ),
                ),
            ],
        ),
        SeparateDatabaseAndState(
            database_operations=[
                DropUniqueConstraint(
                    "social_interactions",
                    "social_interactions_platform_external_id_key",
                    ["platform", "external_id"],
                )
            ],
            state_operations=[
                migrations.RemoveConstraint(
                    "socialinteraction", "social_interactions_platform_external_id_key"
                ),
            ],
        ),
        # Prefixes of (status, priority_score) and of (user_id, received_at).
        remove_index(
            "socialinteraction", "social_interactions", "ix_social_interactions_status", ["status"]
        ),
        remove_index(
            "socialinteraction",
            "social_interactions",
            "ix_social_interactions_user_id",
            ["user_id"],
        ),
        # interaction_responses
        add_index(
            "interactionresponse",
            "interaction_responses",
            "interaction_responses_user_id_sent_at_idx",
            ["user", "sent_at"],
            ["user_id", "sent_at"],
        ),
        remove_index(
            "interactionresponse",
            "interaction_responses",
            "ix_interaction_responses_user_id",
            ["user_id"],
        ),
        # response_templates
        add_index(
            "responsetemplate",
            "response_templates",
            "response_templates_user_id_is_active_idx",
            ["user", "is_active"],
            ["user_id", "is_active"],
        ),
        remove_index(
            "responsetemplate",
            "response_templates",
            "ix_response_templates_user_id",
            ["user_id"],
        ),
    ]
