"""Embeddings of a user's content and memories for similarity search (TARGET_SCHEMA.md §3.7).

The running platform reads and writes these tables through raw SQL (its pgvector service);
column names and types follow its DDL (Alembic 009), with ``id bigint`` (R-2) and 1536
dimensions (R-24). The tables exist only where pgvector does: see ``embeddings``.
"""

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models.functions import Now

from embeddings.vector import HnswIndex, VectorField

DIMENSIONS = 1536  # text-embedding-3-small; HNSW indexes allow at most 2000.
OPTIONAL = "Needs the pgvector extension: exists only where the server offers it (D2)."


class ContentEmbedding(models.Model):
    # CASCADE: the embeddings belong to the user, like the content they were made from.
    # The database cascades (ON DELETE CASCADE, migration 0002): Django must not collect
    # these rows itself, because the table exists only where the server offers pgvector.
    user = models.ForeignKey(
        "accounts.User", models.DO_NOTHING, db_index=False, related_name="content_embeddings"
    )
    # Soft reference: the id the client sent; the table it points at is ambiguous.
    content_id = models.IntegerField()
    content_text = models.TextField()
    embedding = VectorField(dimensions=DIMENSIONS)
    metadata = models.JSONField(null=True)
    embedding_model = models.CharField(max_length=100)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "content_embeddings"
        db_table_comment = f"Embedded content for similarity search. {OPTIONAL}"
        indexes = [
            # Every query of the platform's service filters by user.
            models.Index(fields=["user"], name="content_embeddings_user_id_idx"),
            # DELETE ... WHERE user_id = ? AND content_id = ?
            models.Index(fields=["content_id"], name="content_embeddings_content_id_idx"),
            # ORDER BY embedding <=> ? (nearest neighbours by cosine distance).
            HnswIndex(
                fields=["embedding"],
                name="content_embeddings_embedding_hnsw",
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"Embedding of content {self.content_id}"


class MemoryEmbedding(models.Model):
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)
    # CASCADE: the memories belong to the user.
    # The database cascades (ON DELETE CASCADE, migration 0002): Django must not collect
    # these rows itself, because the table exists only where the server offers pgvector.
    user = models.ForeignKey(
        "accounts.User", models.DO_NOTHING, db_index=False, related_name="memory_embeddings"
    )
    title = models.CharField(max_length=500)
    content = models.TextField()
    memory_type = models.CharField(max_length=100)  # general, insight… (open vocabulary)
    embedding = VectorField(dimensions=DIMENSIONS)
    metadata = models.JSONField(null=True)
    embedding_model = models.CharField(max_length=100)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "memory_embeddings"
        db_table_comment = f"Embedded memories for similarity search. {OPTIONAL}"
        indexes = [
            # Every query of the platform's service filters by user.
            models.Index(fields=["user"], name="memory_embeddings_user_id_idx"),
            # ... AND memory_type = ? (the optional filter of the memory search).
            models.Index(fields=["memory_type"], name="memory_embeddings_memory_type_idx"),
            # ORDER BY embedding <=> ? (nearest neighbours by cosine distance).
            HnswIndex(
                fields=["embedding"],
                name="memory_embeddings_embedding_hnsw",
                opclasses=["vector_cosine_ops"],
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="memory_embeddings_public_id_key"),
        ]

    def __str__(self) -> str:
        return self.title
