"""Social: connected platform accounts, the inbox and its replies.

The six legacy tables map production column for column; the tables after them are new
(TARGET_SCHEMA.md §3.5): organization connections and their audit, published posts, metric
snapshots and post templates.
"""

from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from accounts.models import LEGACY
from database.fields import (
    EncryptedTextField,
    NaiveUTCDateTimeField,
    TextUUIDPrimaryKey,
    UUIDPrimaryKey,
)


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
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField(null=True)
    token_expires_at = models.DateTimeField(null=True)
    token_type = models.CharField(null=True, db_default="Bearer")
    scope = models.CharField(null=True)
    is_active = models.BooleanField(null=True, db_default=True)
    is_verified = models.BooleanField(null=True, db_default=False)
    connection_status = models.CharField(null=True, db_default="connected")
    platform_metadata = models.JSONField(null=True, db_default={})
    rate_limit_remaining = models.IntegerField(null=True)
    rate_limit_reset = models.DateTimeField(null=True)
    daily_post_count = models.IntegerField(null=True, db_default=0)
    daily_post_limit = models.IntegerField(null=True)
    last_error = models.TextField(null=True)
    error_count = models.IntegerField(null=True, db_default=0)
    last_error_at = models.DateTimeField(null=True)
    auto_post_enabled = models.BooleanField(null=True, db_default=True)
    preferred_posting_times = models.JSONField(null=True, db_default={})
    content_filters = models.JSONField(null=True, db_default={})
    connected_at = models.DateTimeField(null=True, db_default=Now())
    last_used_at = models.DateTimeField(null=True)
    last_refreshed_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)
    # Stable external id for APIs and links, added online (TARGET_SCHEMA.md §4).
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)

    class Meta:
        db_table = "social_platform_connections"
        db_table_comment = LEGACY
        indexes = [
            # user_id alone is served by the (user_id, platform) unique constraint.
            models.Index(
                fields=["platform_user_id"],
                name="ix_social_platform_connections_platform_user_id",
            ),
            models.Index(fields=["is_active"], name="social_platform_connections_is_active_idx"),
            # Also serves platform alone.
            models.Index(
                fields=["platform", "platform_user_id"],
                name="social_platform_connections_platform_platform_user_id_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "platform"],
                name="social_platform_connections_user_id_platform_key",
            ),
            models.UniqueConstraint(
                fields=["public_id"], name="social_platform_connections_public_id_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform}: {self.platform_username}"


class SocialInteraction(models.Model):
    id = TextUUIDPrimaryKey()
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="social_interactions"
    )
    # SET NULL: an interaction outlives the channel it came through.
    connection = models.ForeignKey(
        SocialPlatformConnection,
        models.SET_NULL,
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
    media_urls = models.JSONField(null=True, db_default=[])
    hashtags = models.JSONField(null=True, db_default=[])
    mentions = models.JSONField(null=True, db_default=[])
    sentiment = models.CharField(null=True, db_default="neutral")
    intent = models.CharField(null=True)
    priority_score = models.FloatField(null=True, db_default=0.0)
    status = models.CharField(null=True, db_default="unread")
    # SET NULL: deleting the assignee leaves the interaction unassigned.
    assigned_to = models.ForeignKey(
        "accounts.User",
        models.SET_NULL,
        db_column="assigned_to",
        db_index=False,
        null=True,
        related_name="assigned_interactions",
    )
    response_strategy = models.CharField(null=True, db_default="auto")
    platform_metadata = models.JSONField(null=True, db_default={})
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
            models.Index(fields=["priority_score"], name="ix_social_interactions_priority_score"),
            models.Index(fields=["received_at"], name="ix_social_interactions_received_at"),
            models.Index(fields=["connection"], name="social_interactions_connection_id_idx"),
            models.Index(fields=["assigned_to"], name="social_interactions_assigned_to_idx"),
            # Also serves platform alone.
            models.Index(
                fields=["platform", "interaction_type"],
                name="social_interactions_platform_interaction_type_idx",
            ),
            # Also serves status alone.
            models.Index(
                fields=["status", "priority_score"],
                name="social_interactions_status_priority_score_idx",
            ),
            # Also serves user_id alone.
            models.Index(
                fields=["user", "received_at"], name="social_interactions_user_id_received_at_idx"
            ),
        ]
        constraints = [
            # The owner is part of the key.
            models.UniqueConstraint(
                fields=["user", "platform", "external_id"],
                name="social_interactions_user_platform_external_id_key",
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
    trigger_conditions = models.JSONField(null=True, db_default={})
    keywords = models.JSONField(null=True, db_default=[])
    platforms = models.JSONField(null=True, db_default=[])
    response_text = models.TextField()
    variables = models.JSONField(null=True, db_default=[])
    personality_style = models.CharField(null=True, db_default="professional")
    tone = models.CharField(null=True, db_default="helpful")
    auto_approve = models.BooleanField(null=True, db_default=False)
    is_active = models.BooleanField(null=True, db_default=True)
    priority = models.IntegerField(null=True, db_default=50)
    usage_count = models.IntegerField(null=True, db_default=0)
    # The code no longer maps it; kept as it is, since only registration keys retire (D1).
    avg_satisfaction = models.FloatField(null=True, db_default=0.0)
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)
    formality_level = models.IntegerField(db_default=5)
    platform_adaptations = models.JSONField(db_default={})
    success_rate = models.FloatField(db_default=0.0)
    avg_response_time = models.FloatField(db_default=0.0)

    class Meta:
        db_table = "response_templates"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["is_active"], name="ix_response_templates_is_active"),
            models.Index(fields=["priority"], name="ix_response_templates_priority"),
            models.Index(fields=["trigger_type"], name="ix_response_templates_trigger_type"),
            # Also serves user_id alone.
            models.Index(
                fields=["user", "is_active"], name="response_templates_user_id_is_active_idx"
            ),
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
    media_urls = models.JSONField(null=True, db_default=[])
    response_type = models.CharField(null=True, db_default="manual")
    # SET NULL: a sent response outlives its template.
    template = models.ForeignKey(
        ResponseTemplate, models.SET_NULL, db_index=False, null=True, related_name="responses"
    )
    ai_confidence_score = models.FloatField(null=True, db_default=0.0)
    platform = models.CharField()
    platform_response_id = models.CharField(null=True)
    platform_url = models.CharField(null=True)
    status = models.CharField(null=True, db_default="pending")
    sent_at = models.DateTimeField(null=True)
    failure_reason = models.TextField(null=True)
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)
    retry_count = models.IntegerField(db_default=0)

    class Meta:
        db_table = "interaction_responses"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["created_at"], name="ix_interaction_responses_created_at"),
            models.Index(fields=["interaction"], name="ix_interaction_responses_interaction_id"),
            models.Index(fields=["status"], name="ix_interaction_responses_status"),
            models.Index(fields=["template"], name="interaction_responses_template_id_idx"),
            # Also serves user_id alone.
            models.Index(
                fields=["user", "sent_at"], name="interaction_responses_user_id_sent_at_idx"
            ),
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

    def __str__(self) -> str:
        return f"Inbox settings of user {self.user_id}"


# New tables (TARGET_SCHEMA.md §3.5). Column order follows the spec.
#
# A closed vocabulary is declared once at module level, because a model's Meta cannot see
# the classes nested in the model, and is exposed on its model as a nested name
# (``SocialPost.Status``) for callers.


class AuditAction(models.TextChoices):
    CONNECT = "connect", "Connect"
    DISCONNECT = "disconnect", "Disconnect"
    REFRESH = "refresh", "Refresh"
    PUBLISH = "publish", "Publish"
    WEBHOOK_VERIFY = "webhook_verify", "Webhook verify"


class AuditStatus(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    PENDING = "pending", "Pending"


class PostType(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    CAROUSEL = "carousel", "Carousel"
    STORY = "story", "Story"
    REEL = "reel", "Reel"


class PostFormat(models.TextChoices):
    SINGLE = "single", "Single"
    THREAD = "thread", "Thread"
    ARTICLE = "article", "Article"


class PostStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    POSTED = "posted", "Posted"
    FAILED = "failed", "Failed"
    DELETED = "deleted", "Deleted"


class TemplatePostType(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    THREAD = "thread", "Thread"


class SocialConnection(models.Model):
    id = UUIDPrimaryKey()
    # The platform types this UUID while organizations.id is its text UUID: no database key
    # can join the two (PLATFORM.md), so the column keeps the platform's type and
    # check_integrity compares the values as text.
    organization_id = models.UUIDField()
    platform = models.CharField(max_length=50)  # meta, x… (open vocabulary)
    connection_name = models.CharField(max_length=255, null=True)
    platform_account_id = models.CharField(max_length=255, null=True)
    platform_username = models.CharField(max_length=255, null=True)
    access_token = EncryptedTextField(null=True)
    refresh_token = EncryptedTextField(null=True)
    page_access_token = EncryptedTextField(null=True)  # Meta Pages only.
    enc_version = models.IntegerField(db_default=1)  # Envelope version.
    enc_kid = models.CharField(max_length=50, db_default="default")  # Key id, for rotation.
    token_expires_at = models.DateTimeField(null=True)
    scopes = models.JSONField(null=True)
    platform_metadata = models.JSONField(db_default={})  # page_id, ig_business_id, since_id.
    webhook_subscribed = models.BooleanField(db_default=False)
    webhook_secret = EncryptedTextField(null=True)  # text, not varchar(255)
    is_active = models.BooleanField(db_default=True)
    revoked_at = models.DateTimeField(null=True)  # Soft disconnect.
    last_checked_at = models.DateTimeField(null=True)
    verified_for_posting = models.BooleanField(db_default=False)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    implied_references: ClassVar[dict[str, tuple[str, str]]] = {
        "organization_id": ("organizations", "id"),
    }

    class Meta:
        db_table = "social_connections"
        db_table_comment = (
            "An organization's OAuth connections to platform accounts (partner flow)."
        )
        indexes = [
            # organization_id alone is served by uq_org_platform_account.
            models.Index(
                fields=["token_expires_at"], name="social_connections_token_expires_at_idx"
            ),
            # The organization's live connections, by platform.
            models.Index(
                fields=["organization_id", "platform"],
                condition=Q(is_active=True, revoked_at__isnull=True),
                name="idx_social_connections_active",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "platform", "platform_account_id"],
                name="uq_org_platform_account",
            ),
        ]

    def __str__(self) -> str:
        return self.connection_name or f"{self.platform} connection #{self.pk}"


class SocialAudit(models.Model):
    id = UUIDPrimaryKey()
    Action = AuditAction
    Status = AuditStatus

    # The platform types this UUID while organizations.id is its text UUID: no database key
    # can join the two (PLATFORM.md), so the column keeps the platform's type and
    # check_integrity compares the values as text.
    organization_id = models.UUIDField(null=True)
    # SET NULL: the audit outlives the connection (CASCADE in the code; R-14).
    connection = models.ForeignKey(
        SocialConnection,
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="audit_entries",
    )
    action = models.CharField(max_length=50, choices=AuditAction)
    platform = models.CharField(max_length=50, null=True)
    # SET NULL: the actor is informational; the audit outlives the user.
    user = models.ForeignKey(
        "accounts.User",
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="social_audit_entries",
    )
    audit_metadata = models.JSONField(null=True)
    status = models.CharField(max_length=50, null=True, choices=AuditStatus)
    error_message = models.TextField(null=True)
    created_at = models.DateTimeField(db_default=Now())

    implied_references: ClassVar[dict[str, tuple[str, str]]] = {
        "organization_id": ("organizations", "id"),
    }

    class Meta:
        db_table = "social_audit"
        db_table_comment = "Audit trail of connection events: connect, refresh, publish…"
        verbose_name_plural = "social audit"
        indexes = [
            models.Index(fields=["organization_id"], name="social_audit_organization_id_idx"),
            models.Index(fields=["connection"], name="social_audit_connection_id_idx"),
            models.Index(fields=["user"], name="social_audit_user_id_idx"),
            models.Index(fields=["created_at"], name="social_audit_created_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=AuditAction.values), name="social_audit_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AuditStatus.values), name="social_audit_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} ({self.status}) at {self.created_at}"


class SocialPost(models.Model):
    id = TextUUIDPrimaryKey()
    PostType = PostType
    PostFormat = PostFormat
    Status = PostStatus

    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="social_posts"
    )
    # RESTRICT: connections are deactivated, not deleted, and post history must stay; a
    # user's deletion still removes both, as both cascade from the user.
    connection = models.ForeignKey(
        SocialPlatformConnection, models.RESTRICT, db_index=False, related_name="posts"
    )
    # SET NULL: the source content item is optional; the post outlives it.
    content_item = models.ForeignKey(
        "content.ContentItem",
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="social_posts",
    )
    platform = models.CharField()
    platform_post_id = models.CharField(null=True)  # Nullable: drafts have none yet (D9).
    platform_url = models.CharField(null=True)
    content_text = models.TextField(null=True)
    media_urls = models.JSONField(db_default=[])
    hashtags = models.JSONField(db_default=[])
    mentions = models.JSONField(db_default=[])
    post_type = models.CharField(choices=PostType, db_default=PostType.TEXT)
    post_format = models.CharField(null=True, choices=PostFormat)
    scheduled_for = models.DateTimeField(null=True)
    posted_at = models.DateTimeField(null=True)
    status = models.CharField(choices=PostStatus, db_default=PostStatus.DRAFT)
    failure_reason = models.TextField(null=True)
    retry_count = models.IntegerField(db_default=0)
    likes_count = models.IntegerField(db_default=0)
    shares_count = models.IntegerField(db_default=0)
    comments_count = models.IntegerField(db_default=0)
    reach_count = models.IntegerField(db_default=0)
    click_count = models.IntegerField(db_default=0)
    engagement_rate = models.FloatField(db_default=0.0)
    last_metrics_update = models.DateTimeField(null=True)
    metrics_update_count = models.IntegerField(db_default=0)
    peak_engagement_time = models.DateTimeField(null=True)
    platform_metrics = models.JSONField(db_default={})
    sentiment = models.CharField(null=True)
    topics = models.JSONField(db_default=[])
    keywords = models.JSONField(db_default=[])
    campaign_id = models.CharField(null=True)  # Soft reference: there is no campaigns table.
    utm_parameters = models.JSONField(db_default={})
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)

    class Meta:
        db_table = "social_posts"
        db_table_comment = "Posts published (or to be published) on a user's platform connection."
        indexes = [
            # posted_at alone is served by idx_social_post_posted_engagement.
            models.Index(fields=["content_item"], name="social_posts_content_item_id_idx"),
            models.Index(fields=["platform"], name="social_posts_platform_idx"),
            models.Index(fields=["platform_post_id"], name="social_posts_platform_post_id_idx"),
            models.Index(fields=["status"], name="social_posts_status_idx"),
            models.Index(fields=["campaign_id"], name="social_posts_campaign_id_idx"),
            models.Index(fields=["created_at"], name="social_posts_created_at_idx"),
            # Also serves user_id alone.
            models.Index(fields=["user", "platform"], name="idx_social_post_user_platform"),
            # Also serves connection_id alone.
            models.Index(
                fields=["connection", "status"], name="idx_social_post_connection_status"
            ),
            models.Index(
                fields=["posted_at", "engagement_rate"], name="idx_social_post_posted_engagement"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(post_type__in=PostType.values), name="social_posts_post_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(post_format__in=PostFormat.values),
                name="social_posts_post_format_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PostStatus.values), name="social_posts_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} post #{self.pk} ({self.status})"


class PlatformMetricsSnapshot(models.Model):
    connection = models.ForeignKey(
        SocialPlatformConnection, models.CASCADE, db_index=False, related_name="metrics_snapshots"
    )
    snapshot_time = models.DateTimeField(db_default=Now())
    followers_count = models.IntegerField(db_default=0)
    following_count = models.IntegerField(db_default=0)
    posts_count = models.IntegerField(db_default=0)
    avg_likes_per_post = models.FloatField(db_default=0.0)
    avg_comments_per_post = models.FloatField(db_default=0.0)
    avg_shares_per_post = models.FloatField(db_default=0.0)
    overall_engagement_rate = models.FloatField(db_default=0.0)
    followers_growth = models.IntegerField(db_default=0)
    posts_growth = models.IntegerField(db_default=0)
    engagement_growth = models.FloatField(db_default=0.0)
    platform_specific_metrics = models.JSONField(db_default={})

    class Meta:
        db_table = "platform_metrics_snapshots"
        db_table_comment = "Time series of a platform connection's account-level metrics."
        indexes = [
            # Also serves connection_id alone.
            models.Index(
                fields=["connection", "snapshot_time"], name="idx_metrics_snapshot_conn_time"
            ),
            models.Index(
                fields=["snapshot_time"], name="platform_metrics_snapshots_snapshot_time_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Snapshot of connection {self.connection_id} at {self.snapshot_time}"


class SocialPostTemplate(models.Model):
    id = TextUUIDPrimaryKey()
    PostType = TemplatePostType

    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="social_post_templates"
    )
    name = models.CharField()
    description = models.TextField(null=True)
    platform = models.CharField()
    post_type = models.CharField(choices=TemplatePostType)
    template_text = models.TextField()  # Text with placeholders.
    hashtag_template = models.CharField(null=True)
    max_length = models.IntegerField(null=True)  # Character limit.
    thread_split_rules = models.JSONField(db_default={})
    formatting_rules = models.JSONField(db_default={})
    usage_count = models.IntegerField(db_default=0)
    avg_engagement_rate = models.FloatField(db_default=0.0)
    variables = models.JSONField(db_default=[])
    required_media = models.BooleanField(db_default=False)
    is_active = models.BooleanField(db_default=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)

    class Meta:
        db_table = "social_post_templates"
        db_table_comment = "A user's reusable post templates per platform."
        indexes = [
            models.Index(fields=["platform"], name="social_post_templates_platform_idx"),
            # Also serves user_id alone.
            models.Index(fields=["user", "platform"], name="idx_social_template_user_platform"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(post_type__in=TemplatePostType.values),
                name="social_post_templates_post_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name
