"""factory-boy factories for every accounts model (tests and local data only)."""

import datetime
import hashlib
import uuid

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts import models


def sha256_sequence(prefix: str) -> factory.Sequence:
    """A distinct SHA-256 hex digest per instance, for columns that store only a hash."""
    return factory.Sequence(lambda n: hashlib.sha256(f"{prefix}-{n}".encode()).hexdigest())


def in_days(days: int) -> factory.LazyFunction:
    return factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=days))


class UserFactory(DjangoModelFactory):
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"User {n}")
    hashed_password = "$2b$12$" + "x" * 53
    is_active = True
    tier = "base"
    auth_provider = "local"
    created_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = models.User


class AdminUserFactory(DjangoModelFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    email = factory.Sequence(lambda n: f"admin{n}@example.com")
    hashed_password = "$2b$12$" + "y" * 53
    role = models.AdminUser.Role.ADMIN
    is_active = True
    created_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = models.AdminUser


class UserSettingsFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    brand_name = factory.Sequence(lambda n: f"Brand {n}")

    class Meta:
        model = models.UserSettings


class NotificationFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Notification {n}")
    message = "Your weekly report is ready."

    class Meta:
        model = models.Notification


class UserCredentialFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    platform = "twitter"
    # The field encrypts on save: the factory gives the plaintext credential bundle.
    encrypted_credentials = '{"api_key": "factory-api-key"}'
    credential_type = models.UserCredential.CredentialType.API_KEY

    class Meta:
        model = models.UserCredential


class PlatformConfigFactory(DjangoModelFactory):
    platform_name = factory.Sequence(lambda n: f"platform{n}")
    display_name = factory.Sequence(lambda n: f"Platform {n}")
    required_fields = factory.LazyFunction(
        lambda: {"api_key": {"type": "string", "description": "API key"}}
    )

    class Meta:
        model = models.PlatformConfig


class RefreshTokenBlacklistFactory(DjangoModelFactory):
    token_jti = factory.LazyFunction(lambda: str(uuid.uuid4()))
    user = factory.SubFactory(UserFactory)
    expires_at = in_days(30)

    class Meta:
        model = models.RefreshTokenBlacklist


class AdminSessionFactory(DjangoModelFactory):
    admin_user = factory.SubFactory(AdminUserFactory)
    session_token = sha256_sequence("session")
    refresh_token = sha256_sequence("refresh")
    expires_at = in_days(1)

    class Meta:
        model = models.AdminSession


class UserManagementFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)

    class Meta:
        model = models.UserManagement


class AdminAuditLogFactory(DjangoModelFactory):
    admin_user = factory.SubFactory(AdminUserFactory)
    action = "CREATE_USER"
    resource_type = "user"
    resource_id = factory.Sequence(str)

    class Meta:
        model = models.AdminAuditLog


class SystemSettingFactory(DjangoModelFactory):
    key = factory.Sequence(lambda n: f"setting_{n}")
    value = 10
    setting_type = "integer"

    class Meta:
        model = models.SystemSetting


class ApiKeyRevocationFactory(DjangoModelFactory):
    api_key = factory.Sequence(lambda n: f"sk-test-{n}")
    user = factory.SubFactory(UserFactory)
    revoked_by = factory.SubFactory(AdminUserFactory)

    class Meta:
        model = models.ApiKeyRevocation


class AuditLogFactory(DjangoModelFactory):
    event_type = "user_login"
    user_id = factory.Sequence(str)
    outcome = models.AuditLog.Outcome.SUCCESS

    class Meta:
        model = models.AuditLog
