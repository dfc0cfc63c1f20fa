"""Accounts: the platform's users, their settings, admins and notifications.

The five legacy tables map production column for column (``contract/legacy``); see
``database.fields`` for the column types Django lacks. The tables after them are new
(TARGET_SCHEMA.md §3.1): credentials, admin sessions and audit trails, system settings.
"""

from typing import ClassVar

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Now

from database.fields import (
    NaiveUTCDateTimeField,
    PlatformSecretCharField,
    PlatformSecretTextField,
    TextUUIDPrimaryKey,
)

LEGACY = "Legacy table adopted from production (created before Django owned the schema)."


class User(models.Model):
    id = models.AutoField(primary_key=True)
    email = models.CharField()
    username = models.CharField()
    full_name = models.CharField(null=True)
    hashed_password = models.CharField(null=True)
    is_active = models.BooleanField(null=True, db_default=True)
    tier = models.CharField(null=True, db_default="base")
    auth_provider = models.CharField(null=True, db_default="local")
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)
    two_factor_enabled = models.BooleanField(null=True, db_default=False)
    two_factor_secret = PlatformSecretCharField(null=True)
    # SHA-256 hashes of the codes, as the platform checks them (accounts.backup_codes).
    two_factor_backup_codes = models.JSONField(null=True)
    is_superuser = models.BooleanField(null=True, db_default=False)
    is_verified = models.BooleanField(null=True, db_default=False)
    email_verified = models.BooleanField(null=True, db_default=False)
    subscription_status = models.CharField(max_length=50, null=True, db_default="free")
    email_verification_token = models.CharField(max_length=255, null=True)
    email_verification_sent_at = models.DateTimeField(null=True)
    password_reset_token = models.CharField(max_length=255, null=True)
    password_reset_sent_at = models.DateTimeField(null=True)
    subscription_end_date = models.DateTimeField(null=True)
    stripe_customer_id = models.CharField(max_length=255, null=True)
    stripe_subscription_id = models.CharField(max_length=255, null=True)
    # Production's varchar values could point at nothing: archived, then a real FK.
    default_organization = models.ForeignKey(
        "organizations.Organization",
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="+",
    )
    # Stable external id for APIs and links, added online (TARGET_SCHEMA.md §4).
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)

    # Checked by check_integrity (database/integrity/declarations.py). The application always
    # sets created_at; legacy NULLs stay and are listed (TARGET_SCHEMA.md D7).
    required_values: ClassVar[dict[str, Q]] = {"created_at": Q()}
    # Unique ignoring case, not enforced until the duplicates are resolved (D8).
    unique_values: ClassVar[dict[str, Lower]] = {
        "email": Lower("email"),
        "username": Lower("username"),
    }
    # 'premium' is a paid tier: a free subscription contradicts it.
    conflicting_values: ClassVar[dict[str, Q]] = {
        "subscription_status": Q(tier="premium", subscription_status="free"),
    }

    class Meta:
        db_table = "users"
        db_table_comment = LEGACY
        verbose_name = "platform user"
        indexes = [
            models.Index(fields=["email", "username"], name="ix_users_email_username"),
            models.Index(
                fields=["email_verification_token"], name="ix_users_email_verification_token"
            ),
            models.Index(fields=["password_reset_token"], name="ix_users_password_reset_token"),
            models.Index(fields=["stripe_customer_id"], name="ix_users_stripe_customer_id"),
            models.Index(fields=["tier", "subscription_status"], name="ix_users_tier_status"),
            models.Index(
                fields=["default_organization"], name="users_default_organization_id_idx"
            ),
        ]
        constraints = [
            # Unique indexes in production, not constraints; case-sensitive (QUIRKS.md §10).
            models.UniqueConstraint(fields=["email"], name="ix_users_email"),
            models.UniqueConstraint(fields=["username"], name="ix_users_username"),
            models.UniqueConstraint(fields=["public_id"], name="users_public_id_key"),
        ]

    def __str__(self) -> str:
        return self.username


class AdminUser(models.Model):
    class Role(models.TextChoices):
        # The enum stores the Python member *names* the legacy ORM wrote.
        SUPER_ADMIN = "SUPER_ADMIN", "Super admin"
        ADMIN = "ADMIN", "Admin"
        MODERATOR = "MODERATOR", "Moderator"
        SUPPORT = "SUPPORT", "Support"

    id = models.AutoField(primary_key=True)
    username = models.CharField()
    email = models.CharField()
    hashed_password = models.CharField()
    # Was the PostgreSQL enum adminrole; a checked varchar since R-7.
    role = models.CharField(max_length=20, choices=Role, db_default=Role.ADMIN)
    is_active = models.BooleanField(db_default=True)
    created_at = NaiveUTCDateTimeField(db_default=Now())
    last_login = NaiveUTCDateTimeField(null=True)
    # Stable external id for APIs and links, added online (TARGET_SCHEMA.md §4).
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)
    full_name = models.CharField(null=True)
    is_superuser = models.BooleanField(db_default=False)
    failed_login_attempts = models.IntegerField(db_default=0)
    locked_until = NaiveUTCDateTimeField(null=True)
    password_changed_at = NaiveUTCDateTimeField(null=True, db_default=Now())
    two_factor_enabled = models.BooleanField(db_default=False)
    two_factor_secret = PlatformSecretCharField(null=True)
    updated_at = NaiveUTCDateTimeField(null=True, auto_now=True, db_default=Now())
    # Informational: deleting an admin keeps the admins it created or updated.
    created_by = models.ForeignKey(
        "self",
        models.SET_NULL,
        db_column="created_by",
        db_index=False,
        null=True,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        "self",
        models.SET_NULL,
        db_column="updated_by",
        db_index=False,
        null=True,
        related_name="+",
    )

    class Meta:
        db_table = "admin_users"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["created_by"], name="admin_users_created_by_idx"),
            models.Index(fields=["updated_by"], name="admin_users_updated_by_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["SUPER_ADMIN", "ADMIN", "MODERATOR", "SUPPORT"]),
                name="admin_users_role_valid",
            ),
            models.UniqueConstraint(fields=["email"], name="ix_admin_users_email"),
            models.UniqueConstraint(fields=["username"], name="ix_admin_users_username"),
            models.UniqueConstraint(fields=["public_id"], name="admin_users_public_id_key"),
        ]

    def __str__(self) -> str:
        return self.username


class UserSettings(models.Model):
    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(User, models.CASCADE, db_index=False, related_name="settings_rows")
    brand_name = models.CharField(null=True)
    brand_voice = models.CharField(null=True, db_default="professional")
    primary_color = models.CharField(null=True, db_default="#3b82f6")
    logo_url = models.CharField(null=True)
    content_frequency = models.IntegerField(null=True, db_default=3)
    preferred_platforms = models.JSONField(null=True, db_default=["twitter", "instagram"])
    posting_times = models.JSONField(
        null=True, db_default={"twitter": "09:00", "instagram": "10:00"}
    )
    creativity_level = models.FloatField(null=True, db_default=0.7)
    enable_images = models.BooleanField(null=True, db_default=True)
    enable_repurposing = models.BooleanField(null=True, db_default=True)
    enable_autonomous_mode = models.BooleanField(null=True, db_default=False)
    timezone = models.CharField(null=True, db_default="UTC")
    connected_accounts = models.JSONField(null=True, db_default={})
    default_response_personality = models.CharField(null=True, db_default="professional")
    auto_response_enabled = models.BooleanField(null=True, db_default=False)
    auto_response_confidence_threshold = models.FloatField(null=True, db_default=0.8)
    auto_response_business_hours_only = models.BooleanField(null=True, db_default=True)
    auto_response_delay_minutes = models.IntegerField(null=True, db_default=5)
    business_hours_start = models.CharField(null=True, db_default="09:00")
    business_hours_end = models.CharField(null=True, db_default="17:00")
    business_days = models.JSONField(
        null=True, db_default=["monday", "tuesday", "wednesday", "thursday", "friday"]
    )
    escalation_keywords = models.JSONField(
        null=True, db_default=["complaint", "lawsuit", "refund", "angry", "terrible"]
    )
    excluded_response_keywords = models.JSONField(null=True, db_default=["spam", "bot", "fake"])
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)
    secondary_color = models.CharField(max_length=50, null=True, db_default="#10b981")
    industry_type = models.CharField(max_length=100, null=True, db_default="general")
    visual_style = models.CharField(max_length=100, null=True, db_default="modern")
    image_mood = models.JSONField(null=True, db_default=["professional", "clean"])
    brand_keywords = models.JSONField(null=True, db_default=[])
    avoid_list = models.JSONField(null=True, db_default=[])
    enable_auto_image_generation = models.BooleanField(null=True, db_default=True)
    preferred_image_style = models.JSONField(
        null=True,
        db_default={
            "lighting": "natural",
            "composition": "rule_of_thirds",
            "color_temperature": "neutral",
        },
    )
    custom_image_prompts = models.JSONField(null=True, db_default={})
    image_quality = models.CharField(max_length=50, null=True, db_default="high")
    image_aspect_ratio = models.CharField(max_length=20, null=True, db_default="1:1")

    class Meta:
        db_table = "user_settings"
        db_table_comment = LEGACY
        verbose_name_plural = "user settings"
        indexes = [
            models.Index(
                fields=["brand_voice", "industry_type"],
                name="user_settings_brand_voice_industry_type_idx",
            ),
        ]
        constraints = [
            # One settings row per user, as the application assumes.
            models.UniqueConstraint(fields=["user"], name="user_settings_user_id_key"),
        ]

    def __str__(self) -> str:
        return f"Settings #{self.pk} of user {self.user_id}"


class Notification(models.Model):
    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(User, models.CASCADE, db_index=False, related_name="notifications")
    title = models.CharField(max_length=255)
    message = models.TextField()
    notification_type = models.CharField(max_length=50, db_default="info")
    priority = models.CharField(max_length=20, null=True, db_default="medium")
    # The legacy integers pointed at tables production never had; archived.
    goal = models.ForeignKey(
        "goals.Goal",
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="notifications",
    )
    # A soft reference: post ids and UUID strings, target ambiguous.
    content_id = models.CharField(null=True)
    # No database key: the platform declares none and may name workflows it never recorded
    # (D15); check_integrity reports the ones that point at nothing.
    workflow = models.ForeignKey(
        "workflows.WorkflowExecution",
        models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="notifications",
    )
    is_read = models.BooleanField(null=True, db_default=False)
    is_dismissed = models.BooleanField(null=True, db_default=False)
    read_at = models.DateTimeField(null=True)
    action_url = models.CharField(max_length=500, null=True)
    action_label = models.CharField(max_length=100, null=True)
    notification_metadata = models.JSONField(null=True, db_default={})
    created_at = models.DateTimeField(null=True, db_default=Now())
    expires_at = models.DateTimeField(null=True)
    # Stable external id for APIs and links, added online (TARGET_SCHEMA.md §4).
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)

    # Points at another table without a constraint; compared as text.
    implied_references: ClassVar[dict[str, tuple[str, str]]] = {
        "content_id": ("content", "id"),
    }

    class Meta:
        db_table = "notifications"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["created_at"], name="ix_notifications_created_at"),
            models.Index(fields=["is_read"], name="ix_notifications_is_read"),
            models.Index(fields=["user", "is_read"], name="notifications_user_id_is_read_idx"),
            models.Index(
                fields=["user", "notification_type"],
                name="notifications_user_id_notification_type_idx",
            ),
            models.Index(fields=["goal"], name="notifications_goal_id_idx"),
            models.Index(fields=["workflow"], name="notifications_workflow_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="notifications_public_id_key"),
        ]

    def __str__(self) -> str:
        return self.title


# New tables (TARGET_SCHEMA.md §3.1). Column order follows the spec.
#
# A closed vocabulary is declared once at module level, because a model's Meta cannot see
# the classes nested in the model, and is exposed on its model as a nested name
# (``UserCredential.CredentialType``) for callers.


class CredentialType(models.TextChoices):
    API_KEY = "api_key", "API key"
    OAUTH_TOKEN = "oauth_token", "OAuth token"
    APP_CREDENTIALS = "app_credentials", "App credentials"


class UserCredential(models.Model):
    CredentialType = CredentialType

    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)
    user = models.ForeignKey(
        User, models.CASCADE, db_index=False, related_name="platform_credentials"
    )
    platform = models.CharField()
    platform_user_id = models.CharField(null=True)
    platform_username = models.CharField(null=True)
    encrypted_credentials = PlatformSecretTextField()
    credential_type = models.CharField(choices=CredentialType)
    is_active = models.BooleanField(db_default=True)
    last_verified = NaiveUTCDateTimeField(null=True)
    verification_error = models.TextField(null=True)
    scopes = models.JSONField(null=True)
    expires_at = NaiveUTCDateTimeField(null=True)
    created_at = NaiveUTCDateTimeField(db_default=Now())
    updated_at = NaiveUTCDateTimeField(auto_now=True, db_default=Now())
    last_used = NaiveUTCDateTimeField(null=True)

    class Meta:
        db_table = "user_credentials"
        db_table_comment = "Per-user credentials for a social platform, stored encrypted."
        indexes = [
            # user_id is covered by user_credentials_user_id_platform_key.
            models.Index(fields=["platform"], name="user_credentials_platform_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="user_credentials_public_id_key"),
            models.UniqueConstraint(
                fields=["user", "platform"], name="user_credentials_user_id_platform_key"
            ),
            models.CheckConstraint(
                condition=Q(credential_type__in=CredentialType.values),
                name="user_credentials_credential_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform} credentials of user {self.user_id}"


class PlatformConfig(models.Model):
    platform_name = models.CharField()
    display_name = models.CharField()
    is_active = models.BooleanField(db_default=True)
    requires_oauth = models.BooleanField(db_default=False)
    requires_app_credentials = models.BooleanField(db_default=False)
    required_fields = models.JSONField()
    optional_fields = models.JSONField(db_default={})
    oauth_config = models.JSONField(null=True)
    api_base_url = models.CharField(null=True)
    api_version = models.CharField(null=True)
    rate_limits = models.JSONField(null=True)
    setup_instructions = models.TextField(null=True)
    help_url = models.CharField(null=True)
    created_at = NaiveUTCDateTimeField(db_default=Now())
    updated_at = NaiveUTCDateTimeField(auto_now=True, db_default=Now())

    class Meta:
        db_table = "platform_configs"
        db_table_comment = "Supported social platforms and the credential fields each one needs."
        constraints = [
            models.UniqueConstraint(
                fields=["platform_name"], name="platform_configs_platform_name_key"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name


class RefreshTokenBlacklist(models.Model):
    token_jti = models.CharField()
    user = models.ForeignKey(
        User, models.CASCADE, db_index=False, related_name="revoked_refresh_tokens"
    )
    revoked_at = models.DateTimeField(db_default=Now())
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "refresh_token_blacklist"
        db_table_comment = "JWT ids of revoked refresh tokens, kept until the tokens expire."
        verbose_name_plural = "refresh token blacklist"
        indexes = [
            # The spec's idx_blacklist_token_user (token_jti, user_id) is left out: token_jti
            # is unique, so refresh_token_blacklist_token_jti_key already serves that lookup.
            models.Index(fields=["user"], name="refresh_token_blacklist_user_id_idx"),
            # Purging expired entries.
            models.Index(fields=["expires_at"], name="refresh_token_blacklist_expires_at_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["token_jti"], name="refresh_token_blacklist_token_jti_key"
            ),
        ]

    def __str__(self) -> str:
        return self.token_jti


class AdminSession(models.Model):
    id = TextUUIDPrimaryKey()
    admin_user = models.ForeignKey(
        AdminUser, models.CASCADE, db_index=False, related_name="sessions"
    )
    # Raw tokens: the platform looks sessions up by them (D18).
    session_token = models.CharField()
    refresh_token = models.CharField()
    ip_address = models.CharField(null=True)
    user_agent = models.TextField(null=True)
    location = models.CharField(null=True)
    created_at = NaiveUTCDateTimeField(db_default=Now())
    last_activity = NaiveUTCDateTimeField(auto_now=True, db_default=Now())
    expires_at = NaiveUTCDateTimeField()
    is_active = models.BooleanField(db_default=True)
    logout_at = NaiveUTCDateTimeField(null=True)

    class Meta:
        db_table = "admin_sessions"
        db_table_comment = "Sessions of the admin console."
        indexes = [
            models.Index(fields=["admin_user"], name="admin_sessions_admin_user_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session_token"], name="admin_sessions_session_token_key"
            ),
            models.UniqueConstraint(
                fields=["refresh_token"], name="admin_sessions_refresh_token_key"
            ),
        ]

    def __str__(self) -> str:
        return f"Session #{self.pk} of admin {self.admin_user_id}"


class UserManagement(models.Model):
    id = TextUUIDPrimaryKey()
    # One-to-one: PostgreSQL names the unique constraint user_management_user_id_key.
    user = models.OneToOneField(User, models.CASCADE, related_name="management")
    # Raw values: the platform looks users up by their API key (D18); hashing them needs the
    # platform to change first.
    api_key = models.CharField(null=True)
    api_secret = models.CharField(null=True)
    api_key_created_at = NaiveUTCDateTimeField(null=True)
    api_key_last_used = NaiveUTCDateTimeField(null=True)
    api_key_usage_count = models.IntegerField(db_default=0)
    monthly_request_limit = models.IntegerField(db_default=1000)
    monthly_requests_used = models.IntegerField(db_default=0)
    daily_request_limit = models.IntegerField(db_default=100)
    daily_requests_used = models.IntegerField(db_default=0)
    is_suspended = models.BooleanField(db_default=False)
    suspension_reason = models.TextField(null=True)
    suspended_at = NaiveUTCDateTimeField(null=True)
    suspension_expires = NaiveUTCDateTimeField(null=True)
    is_verified = models.BooleanField(db_default=False)
    verification_notes = models.TextField(null=True)
    verified_at = NaiveUTCDateTimeField(null=True)
    subscription_tier = models.CharField(db_default="free")
    subscription_expires = NaiveUTCDateTimeField(null=True)
    billing_customer_id = models.CharField(null=True)
    # SET NULL: an optional reference; deleting an admin must not delete the users it
    # managed.
    managed_by = models.ForeignKey(
        AdminUser,
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="managed_users",
    )
    created_at = NaiveUTCDateTimeField(db_default=Now())
    updated_at = NaiveUTCDateTimeField(auto_now=True, db_default=Now())

    class Meta:
        db_table = "user_management"
        db_table_comment = "Admin-side state of a user: API key, quotas, suspension, tier."
        verbose_name_plural = "user management"
        indexes = [
            models.Index(fields=["managed_by"], name="user_management_managed_by_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["api_key"], name="user_management_api_key_key"),
        ]

    def __str__(self) -> str:
        return f"Management of user {self.user_id}"


class AdminAuditLog(models.Model):
    id = TextUUIDPrimaryKey()
    # PROTECT: the audit trail must survive; admins are deactivated, not deleted.
    admin_user = models.ForeignKey(
        AdminUser, models.PROTECT, db_index=False, related_name="audit_logs"
    )
    action = models.CharField()
    resource_type = models.CharField()
    resource_id = models.CharField(null=True)  # Any resource's id: no foreign key.
    details = models.JSONField(null=True)
    old_values = models.JSONField(null=True)
    new_values = models.JSONField(null=True)
    ip_address = models.CharField(null=True)
    user_agent = models.TextField(null=True)
    request_id = models.CharField(null=True)
    success = models.BooleanField(db_default=True)
    error_message = models.TextField(null=True)
    execution_time_ms = models.IntegerField(null=True)
    created_at = NaiveUTCDateTimeField(db_default=Now())

    class Meta:
        db_table = "admin_audit_logs"
        db_table_comment = "What each admin did in the admin console, with before/after values."
        indexes = [
            # Also serves admin_user_id alone.
            models.Index(fields=["admin_user", "action"], name="idx_audit_admin_action"),
            models.Index(fields=["action"], name="admin_audit_logs_action_idx"),
            models.Index(fields=["resource_type", "resource_id"], name="idx_audit_resource"),
            models.Index(fields=["created_at"], name="idx_audit_created_at"),
        ]

    def __str__(self) -> str:
        return f"{self.action} on {self.resource_type} by admin {self.admin_user_id}"


class SystemSetting(models.Model):
    id = TextUUIDPrimaryKey()
    key = models.CharField()
    value = models.JSONField(null=True)
    description = models.TextField(null=True)
    setting_type = models.CharField()
    is_public = models.BooleanField(db_default=False)
    is_readonly = models.BooleanField(db_default=False)
    validation_rules = models.JSONField(null=True)
    default_value = models.JSONField(null=True)
    created_at = NaiveUTCDateTimeField(db_default=Now())
    updated_at = NaiveUTCDateTimeField(auto_now=True, db_default=Now())
    # SET NULL: informational; the setting outlives the admin who wrote it.
    created_by = models.ForeignKey(
        AdminUser,
        models.SET_NULL,
        db_column="created_by",
        db_index=False,
        null=True,
        related_name="created_settings",
    )
    # SET NULL: informational, as created_by.
    updated_by = models.ForeignKey(
        AdminUser,
        models.SET_NULL,
        db_column="updated_by",
        db_index=False,
        null=True,
        related_name="updated_settings",
    )

    class Meta:
        db_table = "system_settings"
        db_table_comment = "Global platform settings, one row per key."
        indexes = [
            models.Index(fields=["created_by"], name="system_settings_created_by_idx"),
            models.Index(fields=["updated_by"], name="system_settings_updated_by_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="system_settings_key_key"),
        ]

    def __str__(self) -> str:
        return self.key


class ApiKeyRevocation(models.Model):
    id = TextUUIDPrimaryKey()
    api_key = models.CharField()  # the revoked key as the platform compares it (D18)
    user = models.ForeignKey(
        User, models.CASCADE, db_index=False, related_name="api_key_revocations"
    )
    revoked_at = NaiveUTCDateTimeField(db_default=Now())
    # PROTECT: an audit record; admins are deactivated, not deleted.
    revoked_by = models.ForeignKey(
        AdminUser,
        models.PROTECT,
        db_column="revoked_by",
        db_index=False,
        related_name="api_key_revocations",
    )
    reason = models.CharField(null=True)
    notes = models.TextField(null=True)
    expires_at = NaiveUTCDateTimeField(null=True)

    class Meta:
        db_table = "api_key_revocations"
        db_table_comment = "Revoked API keys, kept until the revocation expires."
        indexes = [
            models.Index(fields=["api_key"], name="api_key_revocations_api_key_idx"),
            models.Index(fields=["user"], name="api_key_revocations_user_id_idx"),
            models.Index(fields=["revoked_by"], name="api_key_revocations_revoked_by_idx"),
        ]

    def __str__(self) -> str:
        return f"Revocation #{self.pk} for user {self.user_id}"


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    ERROR = "error", "Error"


class AuditLog(models.Model):
    Outcome = AuditOutcome

    timestamp = NaiveUTCDateTimeField(db_default=Now())
    event_type = models.CharField(max_length=100)
    # The actor as text, with no foreign key: a user, an admin or the system.
    user_id = models.CharField(max_length=100, null=True)
    session_id = models.CharField(max_length=100, null=True)
    ip_address = models.CharField(max_length=45, null=True)
    user_agent = models.TextField(null=True)
    resource = models.CharField(max_length=200, null=True)
    action = models.CharField(max_length=100, null=True)
    outcome = models.CharField(max_length=50, null=True, choices=AuditOutcome)
    details = models.JSONField(null=True)
    compliance_flags = models.JSONField(null=True)

    class Meta:
        db_table = "audit_logs"
        db_table_comment = "Compliance audit trail of application events (no owner; R-25)."
        indexes = [
            models.Index(fields=["timestamp"], name="audit_logs_timestamp_idx"),
            models.Index(fields=["user_id"], name="audit_logs_user_id_idx"),
            models.Index(fields=["session_id"], name="audit_logs_session_id_idx"),
            models.Index(fields=["outcome"], name="audit_logs_outcome_idx"),
            # Also serves event_type alone.
            models.Index(
                fields=["event_type", "outcome", "timestamp"],
                name="idx_audit_logs_security_events",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=AuditOutcome.values), name="audit_logs_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} at {self.timestamp}"
