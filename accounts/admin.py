"""Admin for accounts. Secrets (passwords, 2FA, tokens, keys, credentials) are masked by the
base class (``database.admin.base``); nothing here lists, searches or filters them."""

from django.contrib import admin

from accounts import models
from database.admin.base import IndexedValuesFilter, PlatformAdmin, ReadOnlyAdmin


@admin.register(models.User)
class UserAdmin(PlatformAdmin):
    list_display = (
        "id",
        "username",
        "email",
        "tier",
        "subscription_status",
        "is_active",
        "email_verified",
        "two_factor_enabled",
        "created_at",
    )
    list_filter = (
        "is_active",
        "email_verified",
        "two_factor_enabled",
        "is_superuser",
        ("tier", IndexedValuesFilter),
    )
    search_fields = ("id", "public_id", "email", "username", "stripe_customer_id")

    def has_delete_permission(self, request, obj=None):
        # Deleting a platform user cascades into millions of rows and the platform's own
        # bookkeeping; it is the platform's operation, not an admin click.
        return False


@admin.register(models.AdminUser)
class AdminUserAdmin(PlatformAdmin):
    list_display = ("id", "username", "email", "role", "is_active", "last_login")
    list_filter = ("is_active", "role")
    search_fields = ("id", "public_id", "username", "email")


@admin.register(models.UserSettings)
class UserSettingsAdmin(PlatformAdmin):
    list_display = ("id", "user", "brand_name", "industry_type", "timezone", "created_at")
    list_select_related = ("user",)
    list_filter = ("auto_response_enabled", "enable_autonomous_mode")
    search_fields = ("id", "user")


@admin.register(models.Notification)
class NotificationAdmin(PlatformAdmin):
    list_display = (
        "id",
        "user",
        "title",
        "notification_type",
        "priority",
        "is_read",
        "created_at",
    )
    list_select_related = ("user",)
    list_filter = ("is_read", "is_dismissed")
    search_fields = ("id", "public_id", "user")


@admin.register(models.UserCredential)
class UserCredentialAdmin(PlatformAdmin):
    list_display = (
        "id",
        "user",
        "platform",
        "platform_username",
        "credential_type",
        "is_active",
        "expires_at",
    )
    list_select_related = ("user",)
    list_filter = ("is_active", ("platform", IndexedValuesFilter))
    search_fields = ("id", "public_id", "user")


@admin.register(models.PlatformConfig)
class PlatformConfigAdmin(PlatformAdmin):
    list_display = ("id", "platform_name", "display_name", "is_active", "requires_oauth")
    list_filter = ("is_active", "requires_oauth", "requires_app_credentials")
    search_fields = ("id", "platform_name")


@admin.register(models.RefreshTokenBlacklist)
class RefreshTokenBlacklistAdmin(PlatformAdmin):
    list_display = ("id", "token_jti", "user", "revoked_at", "expires_at")
    list_select_related = ("user",)
    search_fields = ("id", "token_jti", "user")


@admin.register(models.AdminSession)
class AdminSessionAdmin(PlatformAdmin):
    list_display = (
        "id",
        "admin_user",
        "ip_address",
        "created_at",
        "last_activity",
        "expires_at",
        "is_active",
    )
    list_select_related = ("admin_user",)
    list_filter = ("is_active",)
    search_fields = ("id", "admin_user")


@admin.register(models.UserManagement)
class UserManagementAdmin(PlatformAdmin):
    list_display = (
        "id",
        "user",
        "subscription_tier",
        "is_suspended",
        "is_verified",
        "managed_by",
    )
    list_select_related = ("user", "managed_by")
    list_filter = ("is_suspended", "is_verified")
    search_fields = ("id", "user")


@admin.register(models.AdminAuditLog)
class AdminAuditLogAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "admin_user",
        "action",
        "resource_type",
        "resource_id",
        "success",
    )
    list_select_related = ("admin_user",)
    list_filter = ("success", ("action", IndexedValuesFilter))
    search_fields = ("id", "admin_user", "action", "resource_type")


@admin.register(models.SystemSetting)
class SystemSettingAdmin(PlatformAdmin):
    list_display = ("id", "key", "setting_type", "is_public", "is_readonly", "updated_at")
    list_filter = ("is_public", "is_readonly")
    search_fields = ("id", "key")


@admin.register(models.ApiKeyRevocation)
class ApiKeyRevocationAdmin(PlatformAdmin):
    list_display = ("id", "user", "revoked_at", "revoked_by", "reason", "expires_at")
    list_select_related = ("user", "revoked_by")
    search_fields = ("id", "user")


@admin.register(models.AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "timestamp",
        "event_type",
        "user_id",
        "resource",
        "action",
        "outcome",
    )
    list_filter = (("event_type", IndexedValuesFilter), ("outcome", IndexedValuesFilter))
    search_fields = ("id", "user_id", "session_id", "event_type")
