"""factory-boy factories for the embedding models (tests and local data only).

They need the tables, so only where ``embeddings.available()`` is True. The vectors are
made of numbers exact in single precision, so a saved row reads back equal.
"""

import factory
from factory.django import DjangoModelFactory

from accounts.factories import UserFactory
from embeddings import models


def unit_vector(n: int) -> list[float]:
    """A vector pointing along axis ``n`` (modulo the dimensions), slightly tilted."""
    vector = [0.0] * models.DIMENSIONS
    vector[n % models.DIMENSIONS] = 1.0
    vector[(n + 1) % models.DIMENSIONS] = 0.25
    return vector


class ContentEmbeddingFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    content_id = factory.Sequence(lambda n: n + 1)
    content_text = "Fresh out of the oven: cardamom buns are back this weekend!"
    embedding = factory.Sequence(unit_vector)
    metadata = factory.LazyFunction(lambda: {"platform": "instagram"})
    embedding_model = "text-embedding-3-small"

    class Meta:
        model = models.ContentEmbedding


class MemoryEmbeddingFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Insight {n}")
    content = "Posts with behind-the-scenes photos get more comments."
    memory_type = "insight"
    embedding = factory.Sequence(unit_vector)
    metadata = None
    embedding_model = "text-embedding-3-small"

    class Meta:
        model = models.MemoryEmbedding
