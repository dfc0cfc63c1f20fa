"""Accounts: the platform's users, their settings, admins and notifications.

The five legacy tables map production column for column (``contract/legacy``); see
``database.fields`` for the column types Django lacks.
"""

from typing import ClassVar

from django.db import models
from django.db.models.functions import Now

from database.fields import LegacyJSONField, NaiveUTCDateTimeField, PostgresEnumField

LEGACY = "Legacy table adopted from production (created before Django owned the schema)."


class RegistrationKey(models.Model):
    """Deprecated invitation keys; the running application no longer reads them."""

    id = models.CharField(primary_key=True)
    key = models.CharField()
    description = models.CharField(null=True)
    max_uses = models.IntegerField(null=True)
    current_uses = models.IntegerField(null=True)
    expires_at = NaiveUTCDateTimeField(null=True)
    email_domain_restriction = models.CharField(null=True)
    is_active = models.BooleanField(null=True)
    created_at = NaiveUTCDateTimeField(null=True)
    # An admin_users id with no constraint in production (QUIRKS.md §9).
    created_by = models.ForeignKey(
        "accounts.AdminUser",
        models.DO_NOTHING,
        db_column="created_by",
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )

    class Meta:
        db_table = "registration_keys"
        db_table_comment = f"{LEGACY} Deprecated: retired by a forward migration."
        constraints = [
            models.UniqueConstraint(fields=["key"], name="registration_keys_key_key"),
        ]

    def __str__(self) -> str:
        return self.id


class User(models.Model):
    id = models.AutoField(primary_key=True)
    email = models.CharField()
    username = models.CharField()
    full_name = models.CharField(null=True)
    hashed_password = models.CharField(null=True)
    is_active = models.BooleanField(null=True)
    tier = models.CharField(null=True)
    auth_provider = models.CharField(null=True)
    # NO ACTION in production: a key in use cannot be deleted.
    registration_key = models.ForeignKey(
        RegistrationKey,
        models.PROTECT,
        db_column="registration_key_id",
        db_index=False,
        null=True,
        related_name="users",
    )
    created_at = NaiveUTCDateTimeField(null=True)
    updated_at = NaiveUTCDateTimeField(null=True)
    two_factor_enabled = models.BooleanField(null=True)
    two_factor_secret = models.CharField(null=True)
    two_factor_backup_codes = models.TextField(null=True)
    is_superuser = models.BooleanField(null=True, db_default=False)
    is_verified = models.BooleanField(null=True, db_default=False)
    email_verified = models.BooleanField(null=True, db_default=False)
    subscription_status = models.CharField(max_length=50, null=True, db_default="free")
    email_verification_token = models.CharField(max_length=255, null=True)
    email_verification_sent_at = NaiveUTCDateTimeField(null=True)
    password_reset_token = models.CharField(max_length=255, null=True)
    password_reset_sent_at = NaiveUTCDateTimeField(null=True)
    subscription_end_date = NaiveUTCDateTimeField(null=True)
    stripe_customer_id = models.CharField(max_length=255, null=True)
    stripe_subscription_id = models.CharField(max_length=255, null=True)
    # Meant for organizations.id; that table does not exist in production yet.
    default_organization_id = models.CharField(max_length=255, null=True)

    implied_references: ClassVar[dict[str, tuple[str, str]]] = {
        "default_organization_id": ("organizations", "id"),
    }

    class Meta:
        db_table = "users"
        db_table_comment = LEGACY
        verbose_name = "platform user"
        indexes = [
            # Redundant with the primary key; kept until a forward migration drops it.
            models.Index(fields=["id"], name="ix_users_id"),
            models.Index(fields=["email", "username"], name="ix_users_email_username"),
            models.Index(
                fields=["email_verification_token"], name="ix_users_email_verification_token"
            ),
            models.Index(fields=["password_reset_token"], name="ix_users_password_reset_token"),
            models.Index(fields=["stripe_customer_id"], name="ix_users_stripe_customer_id"),
            models.Index(fields=["tier", "subscription_status"], name="ix_users_tier_status"),
        ]
        constraints = [
            # Unique indexes in production, not constraints; case-sensitive (QUIRKS.md §10).
            models.UniqueConstraint(fields=["email"], name="ix_users_email"),
            models.UniqueConstraint(fields=["username"], name="ix_users_username"),
        ]

    def __str__(self) -> str:
        return self.username


class AdminUser(models.Model):
    class Role(models.TextChoices):
        # The enum stores the Python member *names* the legacy ORM wrote.
        SUPER_ADMIN = "SUPER_ADMIN", "Super admin"
        ADMIN = "ADMIN", "Admin"
        MODERATOR = "MODERATOR", "Moderator"

    id = models.AutoField(primary_key=True)
    username = models.CharField()
    email = models.CharField()
    hashed_password = models.CharField()
    role = PostgresEnumField(enum_type="adminrole", choices=Role)
    is_active = models.BooleanField(null=True)
    created_at = NaiveUTCDateTimeField()
    last_login = NaiveUTCDateTimeField(null=True)

    class Meta:
        db_table = "admin_users"
        db_table_comment = LEGACY
        indexes = [models.Index(fields=["id"], name="ix_admin_users_id")]
        constraints = [
            models.UniqueConstraint(fields=["email"], name="ix_admin_users_email"),
            models.UniqueConstraint(fields=["username"], name="ix_admin_users_username"),
        ]

    def __str__(self) -> str:
        return self.username


class UserSettings(models.Model):
    id = models.AutoField(primary_key=True)
    # NO ACTION in production; no unique constraint although the app treats it as 1:1.
    user = models.ForeignKey(User, models.PROTECT, db_index=False, related_name="settings_rows")
    brand_name = models.CharField(null=True)
    brand_voice = models.CharField(null=True, db_default="professional")
    primary_color = models.CharField(null=True, db_default="#3b82f6")
    logo_url = models.CharField(null=True)
    content_frequency = models.IntegerField(null=True, db_default=3)
    preferred_platforms = LegacyJSONField(null=True, db_default=["twitter", "instagram"])
    posting_times = LegacyJSONField(
        null=True, db_default={"twitter": "09:00", "instagram": "10:00"}
    )
    creativity_level = models.FloatField(null=True, db_default=0.7)
    enable_images = models.BooleanField(null=True, db_default=True)
    enable_repurposing = models.BooleanField(null=True, db_default=True)
    enable_autonomous_mode = models.BooleanField(null=True, db_default=False)
    timezone = models.CharField(null=True, db_default="UTC")
    connected_accounts = LegacyJSONField(null=True)
    default_response_personality = models.CharField(null=True, db_default="professional")
    auto_response_enabled = models.BooleanField(null=True, db_default=False)
    auto_response_confidence_threshold = models.FloatField(null=True, db_default=0.8)
    auto_response_business_hours_only = models.BooleanField(null=True, db_default=True)
    auto_response_delay_minutes = models.IntegerField(null=True, db_default=5)
    business_hours_start = models.CharField(null=True, db_default="09:00")
    business_hours_end = models.CharField(null=True, db_default="17:00")
    business_days = LegacyJSONField(
        null=True, db_default=["monday", "tuesday", "wednesday", "thursday", "friday"]
    )
    escalation_keywords = LegacyJSONField(
        null=True, db_default=["complaint", "lawsuit", "refund", "angry", "terrible"]
    )
    excluded_response_keywords = LegacyJSONField(null=True, db_default=["spam", "bot", "fake"])
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)
    secondary_color = models.CharField(max_length=50, null=True, db_default="#10b981")
    industry_type = models.CharField(max_length=100, null=True, db_default="general")
    visual_style = models.CharField(max_length=100, null=True, db_default="modern")
    image_mood = LegacyJSONField(null=True, db_default=["professional", "clean"])
    brand_keywords = LegacyJSONField(null=True, db_default=[])
    avoid_list = LegacyJSONField(null=True, db_default=[])
    enable_auto_image_generation = models.BooleanField(null=True, db_default=True)
    preferred_image_style = LegacyJSONField(
        null=True,
        db_default={
            "lighting": "natural",
            "composition": "rule_of_thirds",
            "color_temperature": "neutral",
        },
    )
    custom_image_prompts = LegacyJSONField(null=True, db_default={})
    image_quality = models.CharField(max_length=50, null=True, db_default="high")
    image_aspect_ratio = models.CharField(max_length=20, null=True, db_default="1:1")

    class Meta:
        db_table = "user_settings"
        db_table_comment = LEGACY
        verbose_name_plural = "user settings"
        indexes = [models.Index(fields=["id"], name="ix_user_settings_id")]

    def __str__(self) -> str:
        return f"Settings #{self.pk} of user {self.user_id}"


class Notification(models.Model):
    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(User, models.CASCADE, db_index=False, related_name="notifications")
    title = models.CharField(max_length=255)
    message = models.TextField(null=True)
    notification_type = models.CharField(max_length=50, null=True, db_default="info")
    priority = models.CharField(max_length=20, null=True, db_default="medium")
    # Soft references: goals and workflows do not exist in production yet.
    goal_id = models.IntegerField(null=True)
    content_id = models.IntegerField(null=True)
    workflow_id = models.IntegerField(null=True)
    is_read = models.BooleanField(null=True, db_default=False)
    is_dismissed = models.BooleanField(null=True, db_default=False)
    read_at = NaiveUTCDateTimeField(null=True)
    action_url = models.CharField(max_length=500, null=True)
    action_label = models.CharField(max_length=100, null=True)
    notification_metadata = LegacyJSONField(null=True)
    created_at = NaiveUTCDateTimeField(null=True, db_default=Now())
    expires_at = NaiveUTCDateTimeField(null=True)

    # Columns that point at another table without a constraint: (table, column) targets.
    implied_references: ClassVar[dict[str, tuple[str, str]]] = {
        "goal_id": ("goals", "id"),
        "content_id": ("content", "id"),
        "workflow_id": ("workflow_executions", "id"),
    }

    class Meta:
        db_table = "notifications"
        db_table_comment = LEGACY
        indexes = [
            models.Index(fields=["created_at"], name="ix_notifications_created_at"),
            models.Index(fields=["is_read"], name="ix_notifications_is_read"),
            models.Index(fields=["user"], name="ix_notifications_user_id"),
        ]

    def __str__(self) -> str:
        return self.title
