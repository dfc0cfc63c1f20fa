"""Content: what users publish, and the log of what was posted.

The two legacy tables map production column for column; the tables after them are new
(TARGET_SCHEMA.md §3.4): content items and their metrics, templates, categories, and the
organization-scoped drafts and schedules of the partner publishing flow.
"""

from typing import ClassVar

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from accounts.models import LEGACY
from database.fields import (
    LegacyJSONField,
    NaiveUTCDateTimeField,
    TextUUIDPrimaryKey,
    UUIDPrimaryKey,
)


class ContentLog(models.Model):
    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="content_logs"
    )
    platform = models.CharField()
    content = models.TextField()
    content_type = models.CharField()
    # Legacy columns the application no longer maps (QUIRKS.md §12).
    metadata = LegacyJSONField(null=True)
    scheduled_time = NaiveUTCDateTimeField(null=True)
    published_at = models.DateTimeField(null=True)
    status = models.CharField(null=True, db_default="draft")
    engagement_score = models.FloatField(null=True, db_default=0.0)
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)
    engagement_data = models.JSONField(null=True, db_default={})
    scheduled_for = models.DateTimeField(null=True)
    platform_post_id = models.CharField(null=True)
    external_post_id = models.CharField(null=True)
    # Stable external id for APIs and links, added online (TARGET_SCHEMA.md §4).
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)

    # Checked by check_integrity (database/integrity/declarations.py): the scheduler reads
    # scheduled_for, so a scheduled post without it is never published.
    required_values: ClassVar[dict[str, Q]] = {"scheduled_for": Q(status="scheduled")}

    class Meta:
        db_table = "content_logs"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["created_at"], name="ix_content_logs_created_at"),
            models.Index(fields=["external_post_id"], name="ix_content_logs_external_post_id"),
            # Also serves platform alone.
            models.Index(fields=["platform", "status"], name="content_logs_platform_status_idx"),
            # The admin's filtered lists, newest first: the 50 newest rows of one platform or
            # status are read from the index, however many newer rows other values have.
            models.Index(fields=["platform", "id"], name="content_logs_platform_id_idx"),
            models.Index(fields=["status", "id"], name="content_logs_status_id_idx"),
            # Also serves user_id alone.
            models.Index(
                fields=["user", "created_at"], name="content_logs_user_id_created_at_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="content_logs_public_id_key"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} post #{self.pk}"


class Content(models.Model):
    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="content_items_legacy"
    )
    title = models.CharField(null=True)
    content = models.TextField()
    platform = models.CharField()
    status = models.CharField(null=True, db_default="draft")
    scheduled_at = models.DateTimeField(null=True)
    published_at = models.DateTimeField(null=True)
    engagement_data = models.JSONField(null=True, db_default={})
    performance_score = models.FloatField(null=True, db_default=0.0)
    ai_model = models.CharField(null=True)
    prompt_used = models.TextField(null=True)
    generation_params = models.JSONField(null=True, db_default={})
    # SET NULL: content outlives the memory it was generated from.
    memory = models.ForeignKey(
        "research.Memory",
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="generated_content",
    )
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)
    # Stable external id for APIs and links, added online (TARGET_SCHEMA.md §4).
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)

    class Meta:
        db_table = "content"
        db_table_comment = LEGACY
        verbose_name_plural = "content"
        indexes = [
            models.Index(fields=["created_at"], name="ix_content_created_at"),
            models.Index(fields=["user", "created_at"], name="ix_content_user_created"),
            models.Index(fields=["memory"], name="content_memory_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="content_public_id_key"),
        ]

    def __str__(self) -> str:
        return self.title or f"Content #{self.pk}"


# New tables (TARGET_SCHEMA.md §3.4). Column order follows the spec.
#
# A closed vocabulary is declared once at module level, because a model's Meta cannot see
# the classes nested in the model, and is exposed on its model as a nested name
# (``ContentItem.Status``) for callers.


class DraftStatus(models.TextChoices):
    CREATED = "created", "Created"
    VERIFIED = "verified", "Verified"
    FAILED = "failed", "Failed"


class ScheduleStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHING = "publishing", "Publishing"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"


class ContentItemType(models.TextChoices):
    TEXT = "text", "Text"
    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    CAROUSEL = "carousel", "Carousel"
    STORY = "story", "Story"


class ContentItemFormat(models.TextChoices):
    POST = "post", "Post"
    THREAD = "thread", "Thread"
    ARTICLE = "article", "Article"


class ContentItemStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"
    ARCHIVED = "archived", "Archived"


class PerformanceTier(models.TextChoices):
    # "unknown" is the column's default: the tier before any metrics arrive.
    UNKNOWN = "unknown", "Unknown"
    VIRAL = "viral", "Viral"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    POOR = "poor", "Poor"


class ContentDraft(models.Model):
    id = UUIDPrimaryKey()
    Status = DraftStatus

    # The platform types this UUID while organizations.id is its text UUID: no database key
    # can join the two (PLATFORM.md), so the column keeps the platform's type and
    # check_integrity compares the values as text.
    organization_id = models.UUIDField()
    connection = models.ForeignKey(
        "social.SocialConnection", models.CASCADE, db_index=False, related_name="drafts"
    )
    content = models.TextField()
    content_hash = models.CharField(max_length=64)  # SHA-256 of the content, for idempotency.
    media_urls = models.JSONField(db_default=[])
    status = models.CharField(max_length=50, choices=DraftStatus, db_default=DraftStatus.CREATED)
    created_at = models.DateTimeField(db_default=Now())
    verified_at = models.DateTimeField(null=True)
    error_message = models.TextField(null=True)

    implied_references: ClassVar[dict[str, tuple[str, str]]] = {
        "organization_id": ("organizations", "id"),
    }

    class Meta:
        db_table = "content_drafts"
        db_table_comment = "Drafts that verify an organization's connection can publish."
        indexes = [
            # Also serves organization_id alone.
            models.Index(
                fields=["organization_id", "connection"], name="idx_content_drafts_org_connection"
            ),
            models.Index(fields=["connection"], name="content_drafts_connection_id_idx"),
            models.Index(fields=["content_hash"], name="content_drafts_content_hash_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DraftStatus.values), name="content_drafts_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Draft #{self.pk} ({self.status})"


class ContentSchedule(models.Model):
    id = UUIDPrimaryKey()
    Status = ScheduleStatus

    # The platform types this UUID while organizations.id is its text UUID: no database key
    # can join the two (PLATFORM.md), so the column keeps the platform's type and
    # check_integrity compares the values as text.
    organization_id = models.UUIDField()
    connection = models.ForeignKey(
        "social.SocialConnection", models.CASCADE, db_index=False, related_name="schedules"
    )
    content = models.TextField()
    content_hash = models.CharField(max_length=64)  # SHA-256 of the content.
    media_urls = models.JSONField(db_default=[])
    scheduled_for = models.DateTimeField(null=True)  # NULL: publish now.
    status = models.CharField(
        max_length=50, choices=ScheduleStatus, db_default=ScheduleStatus.SCHEDULED
    )
    published_at = models.DateTimeField(null=True)
    platform_post_id = models.CharField(max_length=255, null=True)
    error_message = models.TextField(null=True)
    idempotency_key = models.CharField(max_length=255, null=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())

    implied_references: ClassVar[dict[str, tuple[str, str]]] = {
        "organization_id": ("organizations", "id"),
    }

    class Meta:
        db_table = "content_schedules"
        db_table_comment = "Posts an organization has scheduled on one of its connections."
        indexes = [
            # Also serves organization_id alone.
            models.Index(
                fields=["organization_id", "connection"],
                name="idx_content_schedules_org_connection",
            ),
            models.Index(fields=["connection"], name="content_schedules_connection_id_idx"),
            models.Index(fields=["scheduled_for"], name="content_schedules_scheduled_for_idx"),
            models.Index(fields=["status"], name="content_schedules_status_idx"),
        ]
        constraints = [
            # Per tenant, not global as in the code.
            models.UniqueConstraint(
                fields=["organization_id", "idempotency_key"],
                name="content_schedules_organization_id_idempotency_key_key",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ScheduleStatus.values),
                name="content_schedules_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Schedule #{self.pk} ({self.status})"


class ContentItem(models.Model):
    id = TextUUIDPrimaryKey()
    ContentType = ContentItemType
    ContentFormat = ContentItemFormat
    Status = ContentItemStatus
    PerformanceTier = PerformanceTier

    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="content_items"
    )
    content = models.TextField()
    content_hash = models.CharField(null=True)  # SHA-256, to find duplicates.
    platform = models.CharField()
    content_type = models.CharField(choices=ContentItemType)
    content_format = models.CharField(null=True, choices=ContentItemFormat)
    status = models.CharField(choices=ContentItemStatus, db_default=ContentItemStatus.DRAFT)
    published_at = models.DateTimeField(null=True)
    scheduled_for = models.DateTimeField(null=True)
    platform_post_id = models.CharField(null=True)
    platform_url = models.CharField(null=True)
    embedding_id = models.CharField(null=True)  # Id in the vector store.
    embedding_model = models.CharField(db_default="text-embedding-3-large")
    likes_count = models.IntegerField(db_default=0)
    shares_count = models.IntegerField(db_default=0)
    comments_count = models.IntegerField(db_default=0)
    reach_count = models.IntegerField(db_default=0)
    click_count = models.IntegerField(db_default=0)
    engagement_rate = models.FloatField(db_default=0.0)
    performance_tier = models.CharField(
        choices=PerformanceTier, db_default=PerformanceTier.UNKNOWN
    )
    viral_score = models.FloatField(db_default=0.0)  # 0 to 1.
    topic_category = models.CharField(null=True)
    sentiment = models.CharField(null=True)
    tone = models.CharField(null=True)
    reading_level = models.CharField(null=True)
    ai_generated = models.BooleanField(db_default=False)
    ai_model = models.CharField(null=True)
    generation_prompt = models.TextField(null=True)
    generation_params = models.JSONField(db_default={})
    hashtags = models.JSONField(db_default=[])
    mentions = models.JSONField(db_default=[])
    links = models.JSONField(db_default=[])
    keywords = models.JSONField(db_default=[])
    optimal_posting_time = models.DateTimeField(null=True)
    time_zone = models.CharField(db_default="UTC")
    day_of_week = models.IntegerField(null=True)  # 0 = Monday.
    hour_of_day = models.IntegerField(null=True)  # 0 to 23.
    # SET NULL: a repurposed copy outlives its source.
    parent_content = models.ForeignKey(
        "self", models.SET_NULL, db_index=False, null=True, related_name="derived_items"
    )
    # No database key: the platform declares none and may store ids no template has (D15);
    # check_integrity reports the ones that point at nothing.
    template = models.ForeignKey(
        "ContentTemplate",
        models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="items",
    )
    campaign_id = models.CharField(null=True)  # Soft reference: there is no campaigns table.
    ab_test_group = models.CharField(null=True)  # A, B, C…
    ab_test_id = models.CharField(null=True)
    requires_approval = models.BooleanField(db_default=False)
    # Text, as the platform declares it (no key to users): what it stores is its own (D15).
    approved_by = models.CharField(null=True)
    approved_at = models.DateTimeField(null=True)
    rejection_reason = models.TextField(null=True)
    content_quality_score = models.FloatField(db_default=0.0)
    brand_voice_alignment = models.FloatField(db_default=0.0)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)
    last_performance_update = models.DateTimeField(null=True)
    content_metadata = models.JSONField(db_default={})

    class Meta:
        db_table = "content_items"
        db_table_comment = "A user's content with its performance, AI and A/B-test metadata."
        indexes = [
            # The single-column indexes the spec lists on performance_tier, topic_category,
            # created_at and ab_test_id are left out: each leads a composite index below.
            models.Index(fields=["content_hash"], name="content_items_content_hash_idx"),
            models.Index(fields=["platform"], name="content_items_platform_idx"),
            models.Index(fields=["content_type"], name="content_items_content_type_idx"),
            models.Index(fields=["status"], name="content_items_status_idx"),
            models.Index(fields=["published_at"], name="content_items_published_at_idx"),
            models.Index(fields=["scheduled_for"], name="content_items_scheduled_for_idx"),
            models.Index(fields=["platform_post_id"], name="content_items_platform_post_id_idx"),
            models.Index(fields=["embedding_id"], name="content_items_embedding_id_idx"),
            models.Index(fields=["sentiment"], name="content_items_sentiment_idx"),
            models.Index(fields=["parent_content"], name="content_items_parent_content_id_idx"),
            models.Index(fields=["template"], name="content_items_template_id_idx"),
            # Also serves user_id alone.
            models.Index(fields=["user", "platform"], name="idx_content_user_platform"),
            models.Index(
                fields=["performance_tier", "engagement_rate"], name="idx_content_performance"
            ),
            models.Index(
                fields=["topic_category", "sentiment"], name="idx_content_topic_sentiment"
            ),
            models.Index(fields=["created_at", "platform"], name="idx_content_created_platform"),
            models.Index(fields=["ab_test_id", "ab_test_group"], name="idx_content_ab_test"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=ContentItemType.values),
                name="content_items_content_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(content_format__in=ContentItemFormat.values),
                name="content_items_content_format_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ContentItemStatus.values), name="content_items_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(performance_tier__in=PerformanceTier.values),
                name="content_items_performance_tier_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.content_type} #{self.pk}"


class ContentPerformanceSnapshot(models.Model):
    content_item = models.ForeignKey(
        ContentItem, models.CASCADE, db_index=False, related_name="performance_snapshots"
    )
    snapshot_time = models.DateTimeField(db_default=Now())
    likes_count = models.IntegerField(db_default=0)
    shares_count = models.IntegerField(db_default=0)
    comments_count = models.IntegerField(db_default=0)
    reach_count = models.IntegerField(db_default=0)
    click_count = models.IntegerField(db_default=0)
    engagement_rate = models.FloatField(db_default=0.0)
    likes_growth = models.IntegerField(db_default=0)
    shares_growth = models.IntegerField(db_default=0)
    comments_growth = models.IntegerField(db_default=0)
    reach_growth = models.IntegerField(db_default=0)
    engagement_velocity = models.FloatField(db_default=0.0)
    viral_coefficient = models.FloatField(db_default=0.0)
    platform_metrics = models.JSONField(db_default={})

    class Meta:
        db_table = "content_performance_snapshots"
        db_table_comment = "Time series of a content item's metrics."
        indexes = [
            # Also serves content_item_id alone.
            models.Index(
                fields=["content_item", "snapshot_time"], name="idx_snapshot_content_time"
            ),
            models.Index(
                fields=["snapshot_time"], name="content_performance_snapshots_snapshot_time_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Snapshot of item {self.content_item_id} at {self.snapshot_time}"


class ContentCategory(models.Model):
    name = models.CharField()
    slug = models.CharField()
    description = models.TextField(null=True)
    # PROTECT: a parent cannot be deleted while it has children.
    parent = models.ForeignKey(
        "self", models.PROTECT, db_index=False, null=True, related_name="children"
    )
    color = models.CharField(db_default="#6B7280")
    icon = models.CharField(null=True)
    avg_engagement_rate = models.FloatField(db_default=0.0)
    total_content_count = models.IntegerField(db_default=0)
    keywords = models.JSONField(db_default=[])
    training_samples = models.JSONField(db_default=[])
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)

    class Meta:
        db_table = "content_categories"
        db_table_comment = "Global hierarchy of content topics (reference data)."
        verbose_name_plural = "content categories"
        indexes = [
            models.Index(fields=["parent"], name="content_categories_parent_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="content_categories_name_key"),
            models.UniqueConstraint(fields=["slug"], name="content_categories_slug_key"),
        ]

    def __str__(self) -> str:
        return self.name


class ContentTemplate(models.Model):
    id = TextUUIDPrimaryKey()
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="content_templates"
    )
    name = models.CharField()
    description = models.TextField(null=True)
    template_content = models.TextField()  # Text with placeholders.
    prompt_template = models.TextField(null=True)
    platform = models.CharField()
    # PROTECT: categories are shared reference data; one in use cannot be deleted.
    category = models.ForeignKey(
        ContentCategory, models.PROTECT, db_index=False, null=True, related_name="templates"
    )
    content_type = models.CharField()
    usage_count = models.IntegerField(db_default=0)
    avg_performance = models.FloatField(db_default=0.0)
    variables = models.JSONField(db_default=[])
    constraints = models.JSONField(db_default={})  # Length limits, required elements.
    is_active = models.BooleanField(db_default=True)
    is_public = models.BooleanField(db_default=False)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)

    class Meta:
        db_table = "content_templates"
        db_table_comment = "A user's reusable content templates and AI prompts."
        indexes = [
            models.Index(fields=["user"], name="content_templates_user_id_idx"),
            models.Index(fields=["platform"], name="content_templates_platform_idx"),
            models.Index(fields=["category"], name="content_templates_category_id_idx"),
        ]
        constraints = []

    def __str__(self) -> str:
        return self.name
