"""Social: connected platform accounts, the inbox and its replies."""

from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from accounts.models import LEGACY
from database.fields import LegacyJSONField, NaiveUTCDateTimeField, TextUUIDPrimaryKey


class SocialPlatformConnection(models.Model):
    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="platform_connections"
    )
    platform = models.CharField()
    platform_user_id = models.CharField()
    platform_username = models.CharField()
    platform_display_name = models.CharField(null=True)
    profile_image_url = models.CharField(null=True)
    profile_url = models.CharField(null=True)
    access_token = models.TextField()
    refresh_token = models.TextField(null=True)
    token_expires_at = models.DateTimeField(null=True)
    token_type = models.CharField(null=True, db_default="Bearer")
    scope = models.CharField(null=True)
    is_active = models.BooleanField(null=True, db_default=True)
    is_verified = models.BooleanField(null=True, db_default=False)
    connection_status = models.CharField(null=True, db_default="connected")
    platform_metadata = LegacyJSONField(null=True, db_default={})
    rate_limit_remaining = models.IntegerField(null=True)
    rate_limit_reset = models.DateTimeField(null=True)
    daily_post_count = models.IntegerField(null=True, db_default=0)
    daily_post_limit = models.IntegerField(null=True)
    last_error = models.TextField(null=True)
    error_count = models.IntegerField(null=True, db_default=0)
    last_error_at = models.DateTimeField(null=True)
    auto_post_enabled = models.BooleanField(null=True, db_default=True)
    preferred_posting_times = LegacyJSONField(null=True, db_default={})
    content_filters = LegacyJSONField(null=True, db_default={})
    connected_at = models.DateTimeField(null=True, db_default=Now())
    last_used_at = models.DateTimeField(null=True)
    last_refreshed_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "social_platform_connections"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["platform"], name="ix_social_platform_connections_platform"),
            models.Index(
                fields=["platform_user_id"],
                name="ix_social_platform_connections_platform_user_id",
            ),
            models.Index(fields=["user"], name="ix_social_platform_connections_user_id"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "platform"],
                name="social_platform_connections_user_id_platform_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform}: {self.platform_username}"


class SocialInteraction(models.Model):
    id = TextUUIDPrimaryKey()
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="social_interactions"
    )
    # NO ACTION in production: a connection with interactions cannot be deleted.
    connection = models.ForeignKey(
        SocialPlatformConnection,
        models.PROTECT,
        db_index=False,
        null=True,
        related_name="interactions",
    )
    platform = models.CharField()
    interaction_type = models.CharField()
    external_id = models.CharField()
    parent_external_id = models.CharField(null=True)
    author_platform_id = models.CharField()
    author_username = models.CharField()
    author_display_name = models.CharField(null=True)
    author_profile_url = models.CharField(null=True)
    author_profile_image = models.CharField(null=True)
    author_verified = models.BooleanField(null=True, db_default=False)
    content = models.TextField()
    media_urls = LegacyJSONField(null=True, db_default=[])
    hashtags = LegacyJSONField(null=True, db_default=[])
    mentions = LegacyJSONField(null=True, db_default=[])
    sentiment = models.CharField(null=True, db_default="neutral")
    intent = models.CharField(null=True)
    priority_score = models.FloatField(null=True, db_default=0.0)
    status = models.CharField(null=True, db_default="unread")
    # NO ACTION in production: an assignee cannot be deleted.
    assigned_to = models.ForeignKey(
        "accounts.User",
        models.PROTECT,
        db_column="assigned_to",
        db_index=False,
        null=True,
        related_name="assigned_interactions",
    )
    response_strategy = models.CharField(null=True, db_default="auto")
    platform_metadata = LegacyJSONField(null=True, db_default={})
    platform_created_at = models.DateTimeField()
    received_at = models.DateTimeField(null=True, db_default=Now())
    last_updated_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "social_interactions"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["external_id"], name="ix_social_interactions_external_id"),
            models.Index(
                fields=["interaction_type"], name="ix_social_interactions_interaction_type"
            ),
            models.Index(fields=["platform"], name="ix_social_interactions_platform"),
            models.Index(fields=["priority_score"], name="ix_social_interactions_priority_score"),
            models.Index(fields=["received_at"], name="ix_social_interactions_received_at"),
            models.Index(fields=["status"], name="ix_social_interactions_status"),
            models.Index(fields=["user"], name="ix_social_interactions_user_id"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_id"],
                name="social_interactions_platform_external_id_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.interaction_type} from {self.author_username}"


class ResponseTemplate(models.Model):
    id = TextUUIDPrimaryKey()
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="response_templates"
    )
    name = models.CharField()
    description = models.TextField(null=True)
    trigger_type = models.CharField()
    trigger_conditions = LegacyJSONField(null=True, db_default={})
    keywords = LegacyJSONField(null=True, db_default=[])
    platforms = LegacyJSONField(null=True, db_default=[])
    response_text = models.TextField()
    variables = LegacyJSONField(null=True, db_default=[])
    personality_style = models.CharField(null=True, db_default="professional")
    tone = models.CharField(null=True, db_default="helpful")
    auto_approve = models.BooleanField(null=True, db_default=False)
    is_active = models.BooleanField(null=True, db_default=True)
    priority = models.IntegerField(null=True, db_default=1)
    usage_count = models.IntegerField(null=True, db_default=0)
    avg_satisfaction = models.FloatField(null=True, db_default=0.0)
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "response_templates"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["is_active"], name="ix_response_templates_is_active"),
            models.Index(fields=["priority"], name="ix_response_templates_priority"),
            models.Index(fields=["trigger_type"], name="ix_response_templates_trigger_type"),
            models.Index(fields=["user"], name="ix_response_templates_user_id"),
        ]

    def __str__(self) -> str:
        return self.name


class InteractionResponse(models.Model):
    id = TextUUIDPrimaryKey()
    interaction = models.ForeignKey(
        SocialInteraction, models.CASCADE, db_index=False, related_name="responses"
    )
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="interaction_responses"
    )
    response_text = models.TextField()
    media_urls = LegacyJSONField(null=True, db_default=[])
    response_type = models.CharField(null=True, db_default="manual")
    # NO ACTION in production: a template in use cannot be deleted.
    template = models.ForeignKey(
        ResponseTemplate, models.PROTECT, db_index=False, null=True, related_name="responses"
    )
    ai_confidence_score = models.FloatField(null=True, db_default=0.0)
    platform = models.CharField()
    platform_response_id = models.CharField(null=True)
    platform_url = models.CharField(null=True)
    status = models.CharField(null=True, db_default="draft")
    sent_at = models.DateTimeField(null=True)
    failure_reason = models.TextField(null=True)
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "interaction_responses"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["created_at"], name="ix_interaction_responses_created_at"),
            models.Index(fields=["interaction"], name="ix_interaction_responses_interaction_id"),
            models.Index(fields=["status"], name="ix_interaction_responses_status"),
            models.Index(fields=["user"], name="ix_interaction_responses_user_id"),
        ]

    def __str__(self) -> str:
        return f"Response {self.pk} ({self.status})"


class SocialResponse(models.Model):
    """The first reply table, superseded by interaction_responses; kept as is (D1)."""

    id = models.AutoField(primary_key=True)
    # Its foreign key was lost when social_interactions was recreated with text ids: the
    # integers here can never match again (QUIRKS.md §9).
    interaction_id = models.IntegerField()
    # NO ACTION in production.
    user = models.ForeignKey(
        "accounts.User", models.PROTECT, db_index=False, related_name="social_responses"
    )
    response_text = models.TextField()
    response_type = models.CharField(max_length=50, null=True)
    ai_generated = models.BooleanField(null=True, db_default=False)
    ai_confidence = models.FloatField(null=True)
    # An integer, while response_templates.id is text: it cannot reference anything.
    template_id = models.IntegerField(null=True)
    sent_at = NaiveUTCDateTimeField(null=True)
    platform_response_id = models.CharField(max_length=255, null=True)
    platform_response_data = models.JSONField(null=True)
    status = models.CharField(max_length=50, null=True, db_default="draft")
    # A users id with no constraint in production.
    approved_by = models.ForeignKey(
        "accounts.User",
        models.DO_NOTHING,
        db_column="approved_by",
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    approved_at = NaiveUTCDateTimeField(null=True)
    error_message = models.TextField(null=True)
    created_at = NaiveUTCDateTimeField(null=True, db_default=Now())

    # Columns that point at another table without a constraint: (table, column) targets.
    # Both targets now have text keys, so no integer here can match (QUIRKS.md §9).
    implied_references: ClassVar[dict[str, tuple[str, str]]] = {
        "interaction_id": ("social_interactions", "id"),
        "template_id": ("response_templates", "id"),
    }

    class Meta:
        db_table = "social_responses"
        db_table_comment = f"{LEGACY} Superseded by interaction_responses; kept as is (D1)."
        indexes = [
            models.Index(fields=["interaction_id"], name="idx_social_responses_interaction_id"),
            models.Index(fields=["status"], name="idx_social_responses_status"),
            models.Index(fields=["user"], name="idx_social_responses_user_id"),
        ]

    def __str__(self) -> str:
        return f"Legacy response #{self.pk}"


class InboxSettings(models.Model):
    """Per-user inbox automation, superseded by user_settings; kept as is (D1)."""

    id = models.AutoField(primary_key=True)
    user = models.OneToOneField(
        "accounts.User", models.CASCADE, db_index=False, related_name="inbox_settings"
    )
    auto_respond_enabled = models.BooleanField(null=True, db_default=False)
    auto_respond_delay_minutes = models.IntegerField(null=True, db_default=5)
    sentiment_filter = ArrayField(models.CharField(max_length=50), null=True)
    priority_threshold = models.IntegerField(null=True, db_default=5)
    response_tone = models.CharField(max_length=50, null=True, db_default="professional")
    include_ai_disclosure = models.BooleanField(null=True, db_default=True)
    max_auto_responses_per_hour = models.IntegerField(null=True, db_default=10)
    business_hours_only = models.BooleanField(null=True, db_default=True)
    business_hours_start = models.TimeField(null=True, db_default="09:00:00")
    business_hours_end = models.TimeField(null=True, db_default="17:00:00")
    business_days = ArrayField(models.IntegerField(), null=True, db_default=[1, 2, 3, 4, 5])
    timezone = models.CharField(max_length=50, null=True, db_default="UTC")
    notification_preferences = models.JSONField(null=True, db_default={})
    created_at = NaiveUTCDateTimeField(null=True, db_default=Now())
    updated_at = NaiveUTCDateTimeField(null=True, db_default=Now())

    class Meta:
        db_table = "inbox_settings"
        db_table_comment = f"{LEGACY} Superseded by user_settings; kept as is (D1)."
        verbose_name_plural = "inbox settings"
        indexes = [
            # Redundant with the unique constraint; kept until a forward migration drops it.
            models.Index(fields=["user"], name="idx_inbox_settings_user_id"),
        ]

    def __str__(self) -> str:
        return f"Inbox settings of user {self.user_id}"
