"""factory-boy factories for every research model (tests and local data only)."""

import factory
from factory.django import DjangoModelFactory

from accounts.factories import UserFactory
from research import models


class CompanyKnowledgeFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Knowledge {n}")
    topic = "products"
    content = "We bake sourdough every morning."

    class Meta:
        model = models.CompanyKnowledge


class MemoryFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    content = "Posts with behind-the-scenes photos get more comments."
    memory_type = "insight"

    class Meta:
        model = models.Memory


class KnowledgeBaseEntryFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    category = "orders"
    question = "Can I pre-order a cake?"
    answer = "Yes, two days ahead."
    keywords = factory.LazyFunction(lambda: ["cake", "pre-order"])

    class Meta:
        model = models.KnowledgeBaseEntry


class ResearchDataFactory(DjangoModelFactory):
    title = factory.Sequence(lambda n: f"Research item {n}")
    content = "Short-form video keeps growing on every platform."
    platform_source = "web"

    class Meta:
        model = models.ResearchData


class MemoryContentFactory(DjangoModelFactory):
    id = factory.Sequence(lambda n: f"memory_{n}")  # assigned by the platform
    content = "Carousel posts outperform single images for this audience."
    content_type = models.MemoryContent.ContentType.INSIGHT
    source = models.MemoryContent.Source.GENERATED

    class Meta:
        model = models.MemoryContent
