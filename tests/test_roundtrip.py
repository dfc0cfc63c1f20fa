"""Every sample production row loads through the ORM and saves back unchanged."""

import pytest
from django.apps import apps
from django.db import connections

from database.fields import EncryptedFieldMixin
from database.schema import baseline

LEGACY_MODELS = sorted(
    (
        model
        for model in apps.get_models()
        if model._meta.db_table in baseline.load_snapshot()["tables"]
    ),
    key=lambda model: model._meta.db_table,
)


def raw_rows(alias: str, model) -> list[str]:
    """The rows as PostgreSQL prints them, less the columns refreshed on every save and the
    encrypted ones (a new nonce each save; they are compared decrypted)."""
    columns = ", ".join(
        connections[alias].ops.quote_name(field.column)
        for field in model._meta.concrete_fields
        if not getattr(field, "auto_now", False) and not isinstance(field, EncryptedFieldMixin)
    )
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT ROW({columns})::text FROM {model._meta.db_table} ORDER BY 1")
        return [text for (text,) in cursor.fetchall()]


@pytest.mark.parametrize("model", LEGACY_MODELS, ids=lambda model: model._meta.db_table)
def test_every_sample_row_saves_back_unchanged(adopted_alias, model):
    before = raw_rows(adopted_alias, model)

    instances = list(model.objects.using(adopted_alias).order_by("pk"))
    secrets = [
        f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)
    ]
    plaintexts = [[getattr(instance, name) for name in secrets] for instance in instances]
    for instance in instances:
        instance.save(using=adopted_alias)

    assert len(instances) == len(before) > 0
    assert raw_rows(adopted_alias, model) == before
    reloaded = model.objects.using(adopted_alias).order_by("pk")
    assert [[getattr(row, name) for name in secrets] for row in reloaded] == plaintexts


def test_legacy_values_arrive_as_python_values(adopted_alias):
    from accounts.models import AdminUser, User
    from research.models import KnowledgeBaseEntry
    from social.models import InboxSettings, SocialInteraction

    admin = AdminUser.objects.using(adopted_alias).get(pk=1)
    assert admin.role == AdminUser.Role.SUPER_ADMIN
    assert admin.created_at.tzinfo is not None
    assert admin.created_at.isoformat() == "2025-08-25T14:48:03.512000+00:00"
    user = User.objects.using(adopted_alias).get(pk=1)
    assert user.username == "sunrisebakery"
    settings_row = user.settings_rows.using(adopted_alias).get(pk=1)
    assert settings_row.posting_times == {"instagram": "07:30", "facebook": "11:00"}
    entry = KnowledgeBaseEntry.objects.using(adopted_alias).get(pk=1)
    assert entry.keywords == ["cake", "pre-order", "custom"]
    inbox = InboxSettings.objects.using(adopted_alias).get(pk=1)
    assert inbox.business_days == [2, 3, 4, 5, 6]
    assert str(inbox.business_hours_start) == "07:00:00"
    interaction = SocialInteraction.objects.using(adopted_alias).get(
        pk="c610ea1a-01ed-4b3d-a9d0-1b5db4d138bc"
    )
    assert interaction.mentions == ["@sunrisebakery"]


def test_orm_inserts_take_the_database_defaults(adopted_alias):
    from accounts.models import AdminUser, User
    from social.models import ResponseTemplate

    user = User.objects.using(adopted_alias).create(email="new@example.com", username="new")
    admin = AdminUser.objects.using(adopted_alias).create(
        username="ops",
        email="ops@example.com",
        hashed_password="x",
        role=AdminUser.Role.MODERATOR,
        created_at="2026-01-01T00:00:00Z",
    )
    template = ResponseTemplate.objects.using(adopted_alias).create(
        user=user, name="Thanks", trigger_type="keyword", response_text="Thank you!"
    )
    user.refresh_from_db(using=adopted_alias)

    assert user.pk == 6  # the serial sequence continues after the sample rows
    assert user.subscription_status == "free"
    assert user.is_superuser is False
    assert admin.pk == 3
    assert len(template.pk) == 36
    with connections[adopted_alias].cursor() as cursor:
        cursor.execute(
            "SELECT role::text, created_at::text FROM admin_users WHERE id = %s", [admin.pk]
        )
        # Naive, as the platform's model is (D16): the UTC wall time without a zone.
        assert cursor.fetchone() == ("MODERATOR", "2026-01-01 00:00:00")
