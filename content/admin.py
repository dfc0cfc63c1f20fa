"""Admin for content: the legacy post log and content, and the planning tables."""

from django.contrib import admin

from content import models
from database.admin.base import IndexedValuesFilter, PlatformAdmin


@admin.register(models.ContentLog)
class ContentLogAdmin(PlatformAdmin):
    list_display = (
        "id",
        "user",
        "platform",
        "content_type",
        "status",
        "scheduled_for",
        "published_at",
        "created_at",
    )
    list_select_related = ("user",)
    list_filter = (("platform", IndexedValuesFilter), ("status", IndexedValuesFilter))
    search_fields = ("id", "public_id", "user", "external_post_id")


@admin.register(models.Content)
class ContentAdmin(PlatformAdmin):
    list_display = ("id", "title", "user", "platform", "status", "created_at")
    list_select_related = ("user",)
    search_fields = ("id", "public_id", "user")


@admin.register(models.ContentDraft)
class ContentDraftAdmin(PlatformAdmin):
    list_display = ("id", "organization_id", "connection", "status", "created_at", "verified_at")
    list_select_related = ("connection",)
    search_fields = ("id", "organization_id", "content_hash")


@admin.register(models.ContentSchedule)
class ContentScheduleAdmin(PlatformAdmin):
    list_display = (
        "id",
        "organization_id",
        "connection",
        "status",
        "scheduled_for",
        "published_at",
    )
    list_select_related = ("connection",)
    list_filter = (("status", IndexedValuesFilter),)
    search_fields = ("id", "organization_id")


@admin.register(models.ContentItem)
class ContentItemAdmin(PlatformAdmin):
    list_display = (
        "id",
        "user",
        "platform",
        "content_type",
        "status",
        "performance_tier",
        "published_at",
        "created_at",
    )
    list_select_related = ("user",)
    list_filter = (
        ("platform", IndexedValuesFilter),
        ("status", IndexedValuesFilter),
        ("content_type", IndexedValuesFilter),
        "ai_generated",
        "requires_approval",
    )
    search_fields = ("id", "user", "platform_post_id", "content_hash")


@admin.register(models.ContentPerformanceSnapshot)
class ContentPerformanceSnapshotAdmin(PlatformAdmin):
    list_display = ("id", "content_item", "snapshot_time", "likes_count", "engagement_rate")
    list_select_related = ("content_item",)
    search_fields = ("id", "content_item")


@admin.register(models.ContentCategory)
class ContentCategoryAdmin(PlatformAdmin):
    list_display = ("id", "name", "slug", "parent", "total_content_count")
    list_select_related = ("parent",)
    search_fields = ("id", "name", "slug")


@admin.register(models.ContentTemplate)
class ContentTemplateAdmin(PlatformAdmin):
    list_display = ("id", "name", "user", "platform", "category", "is_active", "is_public")
    list_select_related = ("user", "category")
    list_filter = ("is_active", "is_public", ("platform", IndexedValuesFilter))
    search_fields = ("id", "user")
