"""factory-boy factories for every content model (tests and local data only)."""

import hashlib

import factory
from factory.django import DjangoModelFactory

from accounts.factories import UserFactory
from content import models
from social.factories import SocialConnectionFactory, new_organization_id


def content_hash(obj) -> str:
    return hashlib.sha256(obj.content.encode()).hexdigest()


class ContentLogFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    platform = "instagram"
    content = factory.Sequence(lambda n: f"Logged post {n}")
    content_type = "text"

    class Meta:
        model = models.ContentLog


class ContentFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Content {n}")
    content = "Our new seasonal menu is here."
    platform = "facebook"

    class Meta:
        model = models.Content


class ContentDraftFactory(DjangoModelFactory):
    organization_id = factory.LazyFunction(new_organization_id)
    connection = factory.SubFactory(
        SocialConnectionFactory, organization_id=factory.SelfAttribute("..organization_id")
    )
    content = factory.Sequence(lambda n: f"Draft {n}")
    content_hash = factory.LazyAttribute(content_hash)

    class Meta:
        model = models.ContentDraft


class ContentScheduleFactory(DjangoModelFactory):
    organization_id = factory.LazyFunction(new_organization_id)
    connection = factory.SubFactory(
        SocialConnectionFactory, organization_id=factory.SelfAttribute("..organization_id")
    )
    content = factory.Sequence(lambda n: f"Scheduled post {n}")
    content_hash = factory.LazyAttribute(content_hash)
    idempotency_key = factory.Sequence(lambda n: f"idem-{n}")

    class Meta:
        model = models.ContentSchedule


class ContentItemFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    content = factory.Sequence(lambda n: f"Content item {n}")
    content_hash = factory.LazyAttribute(content_hash)
    platform = "linkedin"
    content_type = models.ContentItem.ContentType.TEXT

    class Meta:
        model = models.ContentItem


class ContentPerformanceSnapshotFactory(DjangoModelFactory):
    content_item = factory.SubFactory(ContentItemFactory)
    likes_count = 42

    class Meta:
        model = models.ContentPerformanceSnapshot


class ContentCategoryFactory(DjangoModelFactory):
    # Distinct from the six seeded categories.
    name = factory.Sequence(lambda n: f"Custom category {n}")
    slug = factory.Sequence(lambda n: f"custom-category-{n}")

    class Meta:
        model = models.ContentCategory


class ContentTemplateFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Content template {n}")
    template_content = "Tip of the day: {tip}"
    platform = "linkedin"
    content_type = "text"

    class Meta:
        model = models.ContentTemplate
