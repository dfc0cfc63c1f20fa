"""Content: what users publish, and the log of what was posted."""

from django.db import models
from django.db.models.functions import Now

from accounts.models import LEGACY
from database.fields import LegacyJSONField, NaiveUTCDateTimeField


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
    published_at = NaiveUTCDateTimeField(null=True)
    status = models.CharField(null=True, db_default="draft")
    engagement_score = models.FloatField(null=True, db_default=0.0)
    created_at = NaiveUTCDateTimeField(null=True, db_default=Now())
    updated_at = NaiveUTCDateTimeField(null=True)
    engagement_data = models.JSONField(null=True, db_default={})
    scheduled_for = models.DateTimeField(null=True)
    platform_post_id = models.CharField(null=True)
    external_post_id = models.CharField(null=True)

    class Meta:
        db_table = "content_logs"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["created_at"], name="ix_content_logs_created_at"),
            models.Index(fields=["external_post_id"], name="ix_content_logs_external_post_id"),
            models.Index(fields=["platform"], name="ix_content_logs_platform"),
            models.Index(fields=["status"], name="ix_content_logs_status"),
            models.Index(fields=["user"], name="ix_content_logs_user_id"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} post #{self.pk}"


class Content(models.Model):
    id = models.AutoField(primary_key=True)
    # NO ACTION in production: a user with content cannot be deleted.
    user = models.ForeignKey(
        "accounts.User", models.PROTECT, db_index=False, related_name="content_items_legacy"
    )
    title = models.CharField(null=True)
    content = models.TextField()
    platform = models.CharField()
    status = models.CharField(null=True, db_default="draft")
    scheduled_at = models.DateTimeField(null=True)
    published_at = models.DateTimeField(null=True)
    engagement_data = LegacyJSONField(null=True, db_default={})
    performance_score = models.FloatField(null=True, db_default=0.0)
    ai_model = models.CharField(null=True)
    prompt_used = models.TextField(null=True)
    generation_params = LegacyJSONField(null=True, db_default={})
    # NO ACTION in production: a memory used by content cannot be deleted.
    memory = models.ForeignKey(
        "research.Memory",
        models.PROTECT,
        db_index=False,
        null=True,
        related_name="generated_content",
    )
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "content"
        db_table_comment = LEGACY
        verbose_name_plural = "content"
        indexes = [
            models.Index(fields=["created_at"], name="ix_content_created_at"),
            models.Index(fields=["id"], name="ix_content_id"),
            models.Index(fields=["user", "created_at"], name="ix_content_user_created"),
            models.Index(fields=["user"], name="ix_content_user_id"),
        ]

    def __str__(self) -> str:
        return self.title or f"Content #{self.pk}"
