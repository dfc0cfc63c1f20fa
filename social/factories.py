"""factory-boy factories for every social model (tests and local data only)."""

import uuid

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.factories import UserFactory
from organizations.factories import OrganizationFactory
from social import models


class SocialPlatformConnectionFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    platform = "instagram"
    platform_user_id = factory.Sequence(lambda n: f"ig-{n}")
    platform_username = factory.Sequence(lambda n: f"account{n}")
    access_token = factory.Sequence(lambda n: f"access-token-{n}")

    class Meta:
        model = models.SocialPlatformConnection


class SocialInteractionFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    platform = "instagram"
    interaction_type = "comment"
    external_id = factory.Sequence(lambda n: f"comment-{n}")
    author_platform_id = factory.Sequence(lambda n: f"author-{n}")
    author_username = factory.Sequence(lambda n: f"fan{n}")
    content = "Do you deliver on Sundays?"
    platform_created_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = models.SocialInteraction


class ResponseTemplateFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Template {n}")
    trigger_type = "keyword"
    response_text = "Thank you for your message!"

    class Meta:
        model = models.ResponseTemplate


class InteractionResponseFactory(DjangoModelFactory):
    interaction = factory.SubFactory(SocialInteractionFactory)
    user = factory.SelfAttribute("interaction.user")
    response_text = "Yes, we deliver every day."
    platform = factory.SelfAttribute("interaction.platform")

    class Meta:
        model = models.InteractionResponse


class SocialResponseFactory(DjangoModelFactory):
    # interaction_id is a legacy integer that can reference nothing (QUIRKS.md §9).
    interaction_id = factory.Sequence(int)
    user = factory.SubFactory(UserFactory)
    response_text = "Thanks!"

    class Meta:
        model = models.SocialResponse


class InboxSettingsFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)

    class Meta:
        model = models.InboxSettings


def new_organization_id() -> uuid.UUID:
    """An organization's key in the UUID form the platform's organization_id columns use."""
    return uuid.UUID(OrganizationFactory().id)


class SocialConnectionFactory(DjangoModelFactory):
    organization_id = factory.LazyFunction(new_organization_id)
    platform = "meta"
    connection_name = factory.Sequence(lambda n: f"Page {n}")
    platform_account_id = factory.Sequence(lambda n: f"page-{n}")

    class Meta:
        model = models.SocialConnection


class SocialAuditFactory(DjangoModelFactory):
    connection = factory.SubFactory(SocialConnectionFactory)
    organization_id = factory.SelfAttribute("connection.organization_id")
    action = models.SocialAudit.Action.CONNECT
    platform = factory.SelfAttribute("connection.platform")
    status = models.SocialAudit.Status.SUCCESS

    class Meta:
        model = models.SocialAudit


class SocialPostFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    connection = factory.SubFactory(
        SocialPlatformConnectionFactory, user=factory.SelfAttribute("..user")
    )
    platform = factory.SelfAttribute("connection.platform")
    content_text = "Fresh croissants until noon!"

    class Meta:
        model = models.SocialPost


class PlatformMetricsSnapshotFactory(DjangoModelFactory):
    connection = factory.SubFactory(SocialPlatformConnectionFactory)
    followers_count = 1200

    class Meta:
        model = models.PlatformMetricsSnapshot


class SocialPostTemplateFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Post template {n}")
    platform = "twitter"
    post_type = models.SocialPostTemplate.PostType.TEXT
    template_text = "New today: {product}"

    class Meta:
        model = models.SocialPostTemplate
