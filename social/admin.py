"""Admin for social: connections (tokens masked by the base), the inbox and publishing."""

from django.contrib import admin

from database.admin.base import IndexedValuesFilter, PlatformAdmin, ReadOnlyAdmin
from social import models


@admin.register(models.SocialPlatformConnection)
class SocialPlatformConnectionAdmin(PlatformAdmin):
    list_display = (
        "id",
        "user",
        "platform",
        "platform_username",
        "connection_status",
        "is_active",
        "token_expires_at",
    )
    list_select_related = ("user",)
    list_filter = ("is_active", "is_verified", ("platform", IndexedValuesFilter))
    search_fields = ("id", "public_id", "user", "platform_user_id")


@admin.register(models.SocialInteraction)
class SocialInteractionAdmin(PlatformAdmin):
    list_display = (
        "id",
        "user",
        "platform",
        "interaction_type",
        "author_username",
        "status",
        "priority_score",
        "received_at",
    )
    list_select_related = ("user",)
    list_filter = (
        ("platform", IndexedValuesFilter),
        ("interaction_type", IndexedValuesFilter),
        ("status", IndexedValuesFilter),
    )
    search_fields = ("id", "user", "external_id")


@admin.register(models.ResponseTemplate)
class ResponseTemplateAdmin(PlatformAdmin):
    list_display = ("id", "name", "user", "trigger_type", "priority", "is_active", "usage_count")
    list_select_related = ("user",)
    list_filter = ("is_active", ("trigger_type", IndexedValuesFilter))
    search_fields = ("id", "user")


@admin.register(models.InteractionResponse)
class InteractionResponseAdmin(PlatformAdmin):
    list_display = ("id", "interaction", "user", "platform", "status", "sent_at", "created_at")
    list_select_related = ("interaction", "user")
    list_filter = (("status", IndexedValuesFilter),)
    search_fields = ("id", "interaction", "user")


@admin.register(models.SocialResponse)
class SocialResponseAdmin(ReadOnlyAdmin):
    """Legacy (D1): superseded by interaction_responses, kept as it is."""

    list_display = ("id", "interaction_id", "user", "response_type", "status", "sent_at")
    list_select_related = ("user",)
    list_filter = (("status", IndexedValuesFilter),)
    search_fields = ("id", "interaction_id", "user")


@admin.register(models.InboxSettings)
class InboxSettingsAdmin(ReadOnlyAdmin):
    """Legacy (D1): superseded by user_settings, kept as it is."""

    list_display = ("id", "user", "auto_respond_enabled", "response_tone", "timezone")
    list_select_related = ("user",)
    list_filter = ("auto_respond_enabled",)
    search_fields = ("id", "user")


@admin.register(models.SocialConnection)
class SocialConnectionAdmin(PlatformAdmin):
    list_display = (
        "id",
        "organization_id",
        "platform",
        "connection_name",
        "platform_username",
        "enc_kid",
        "is_active",
        "token_expires_at",
    )
    list_filter = ("is_active", "verified_for_posting", "webhook_subscribed")
    search_fields = ("id", "organization_id")


@admin.register(models.SocialAudit)
class SocialAuditAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "organization_id",
        "connection",
        "action",
        "user",
        "status",
    )
    list_select_related = ("connection", "user")
    search_fields = ("id", "organization_id", "connection")


@admin.register(models.SocialPost)
class SocialPostAdmin(PlatformAdmin):
    list_display = (
        "id",
        "user",
        "connection",
        "platform",
        "status",
        "posted_at",
        "engagement_rate",
    )
    list_select_related = ("user", "connection")
    list_filter = (("platform", IndexedValuesFilter), ("status", IndexedValuesFilter))
    search_fields = ("id", "user", "platform_post_id", "campaign_id")


@admin.register(models.PlatformMetricsSnapshot)
class PlatformMetricsSnapshotAdmin(PlatformAdmin):
    list_display = ("id", "connection", "snapshot_time", "followers_count", "posts_count")
    list_select_related = ("connection",)
    search_fields = ("id", "connection")


@admin.register(models.SocialPostTemplate)
class SocialPostTemplateAdmin(PlatformAdmin):
    list_display = ("id", "name", "user", "platform", "post_type", "is_active", "usage_count")
    list_select_related = ("user",)
    list_filter = ("is_active", ("platform", IndexedValuesFilter))
    search_fields = ("id", "user")
