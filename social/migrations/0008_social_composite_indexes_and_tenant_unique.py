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

from database.online import AddUniqueConstraint, CreateIndex, DropIndex, DropUniqueConstraint


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("social", "0007_encrypt_tokens"),
    ]

    operations = [
        # social_platform_connections
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "social_platform_connections",
                    "social_platform_connections_is_active_idx",
                    ["is_active"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "socialplatformconnection",
                    models.Index(
                        fields=["is_active"], name="social_platform_connections_is_active_idx"
                    ),
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "social_platform_connections",
                    "social_platform_connections_platform_platform_user_id_idx",
                    ["platform", "platform_user_id"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "socialplatformconnection",
                    models.Index(
                        fields=["platform", "platform_user_id"],
                        name="social_platform_connections_platform_platform_user_id_idx",
                    ),
                ),
            ],
        ),
        # A prefix of social_platform_connections_platform_platform_user_id_idx.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndex(
                    "social_platform_connections",
                    "ix_social_platform_connections_platform",
                    ["platform"],
                )
            ],
            state_operations=[
                migrations.RemoveIndex(
                    "socialplatformconnection", "ix_social_platform_connections_platform"
                )
            ],
        ),
        # social_interactions
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "social_interactions",
                    "social_interactions_platform_interaction_type_idx",
                    ["platform", "interaction_type"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "socialinteraction",
                    models.Index(
                        fields=["platform", "interaction_type"],
                        name="social_interactions_platform_interaction_type_idx",
                    ),
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "social_interactions",
                    "social_interactions_status_priority_score_idx",
                    ["status", "priority_score"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "socialinteraction",
                    models.Index(
                        fields=["status", "priority_score"],
                        name="social_interactions_status_priority_score_idx",
                    ),
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "social_interactions",
                    "social_interactions_user_id_received_at_idx",
                    ["user_id", "received_at"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "socialinteraction",
                    models.Index(
                        fields=["user", "received_at"],
                        name="social_interactions_user_id_received_at_idx",
                    ),
                ),
            ],
        ),
        # Looser than the constraint it replaces, so the existing rows already satisfy it.
        migrations.SeparateDatabaseAndState(
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
        migrations.SeparateDatabaseAndState(
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
        # A prefix of social_interactions_status_priority_score_idx.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndex("social_interactions", "ix_social_interactions_status", ["status"])
            ],
            state_operations=[
                migrations.RemoveIndex("socialinteraction", "ix_social_interactions_status")
            ],
        ),
        # A prefix of social_interactions_user_id_received_at_idx and of the new constraint.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndex("social_interactions", "ix_social_interactions_user_id", ["user_id"])
            ],
            state_operations=[
                migrations.RemoveIndex("socialinteraction", "ix_social_interactions_user_id")
            ],
        ),
        # interaction_responses
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "interaction_responses",
                    "interaction_responses_user_id_sent_at_idx",
                    ["user_id", "sent_at"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "interactionresponse",
                    models.Index(
                        fields=["user", "sent_at"],
                        name="interaction_responses_user_id_sent_at_idx",
                    ),
                ),
            ],
        ),
        # A prefix of interaction_responses_user_id_sent_at_idx.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndex("interaction_responses", "ix_interaction_responses_user_id", ["user_id"])
            ],
            state_operations=[
                migrations.RemoveIndex("interactionresponse", "ix_interaction_responses_user_id")
            ],
        ),
        # response_templates
        migrations.SeparateDatabaseAndState(
            database_operations=[
                CreateIndex(
                    "response_templates",
                    "response_templates_user_id_is_active_idx",
                    ["user_id", "is_active"],
                )
            ],
            state_operations=[
                migrations.AddIndex(
                    "responsetemplate",
                    models.Index(
                        fields=["user", "is_active"],
                        name="response_templates_user_id_is_active_idx",
                    ),
                ),
            ],
        ),
        # A prefix of response_templates_user_id_is_active_idx.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                DropIndex("response_templates", "ix_response_templates_user_id", ["user_id"])
            ],
            state_operations=[
                migrations.RemoveIndex("responsetemplate", "ix_response_templates_user_id")
            ],
        ),
    ]
