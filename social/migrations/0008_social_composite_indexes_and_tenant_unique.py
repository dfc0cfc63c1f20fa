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
)
from database.operations import SeparateDatabaseAndState
from database.recipes import OnlineAddIndex, OnlineRemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0007_encrypt_tokens"),
    ]

    operations = [
        # social_platform_connections
        OnlineAddIndex(
            "socialplatformconnection",
            models.Index(fields=["is_active"], name="social_platform_connections_is_active_idx"),
        ),
        OnlineAddIndex(
            "socialplatformconnection",
            models.Index(
                fields=["platform", "platform_user_id"],
                name="social_platform_connections_platform_platform_user_id_idx",
            ),
        ),
        OnlineRemoveIndex("socialplatformconnection", "ix_social_platform_connections_platform"),
        # social_interactions
        OnlineAddIndex(
            "socialinteraction",
            models.Index(
                fields=["platform", "interaction_type"],
                name="social_interactions_platform_interaction_type_idx",
            ),
        ),
        OnlineAddIndex(
            "socialinteraction",
            models.Index(
                fields=["status", "priority_score"],
                name="social_interactions_status_priority_score_idx",
            ),
        ),
        OnlineAddIndex(
            "socialinteraction",
            models.Index(
                fields=["user", "received_at"], name="social_interactions_user_id_received_at_idx"
            ),
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
        OnlineRemoveIndex("socialinteraction", "ix_social_interactions_status"),
        OnlineRemoveIndex("socialinteraction", "ix_social_interactions_user_id"),
        # interaction_responses
        OnlineAddIndex(
            "interactionresponse",
            models.Index(
                fields=["user", "sent_at"], name="interaction_responses_user_id_sent_at_idx"
            ),
        ),
        OnlineRemoveIndex("interactionresponse", "ix_interaction_responses_user_id"),
        # response_templates
        OnlineAddIndex(
            "responsetemplate",
            models.Index(
                fields=["user", "is_active"], name="response_templates_user_id_is_active_idx"
            ),
        ),
        OnlineRemoveIndex("responsetemplate", "ix_response_templates_user_id"),
    ]
