"""Research: the knowledge a user's content is generated from.

The three legacy tables map production column for column; the tables after them are new
(TARGET_SCHEMA.md §3.7) and, as in the code, have no owner column (O-4, D5).
"""

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.functions import RandomUUID
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from accounts.models import LEGACY
from database.fields import NaiveUTCDateTimeField, TextPrimaryKey


class CompanyKnowledge(models.Model):
    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="company_knowledge"
    )
    title = models.CharField()
    topic = models.CharField()
    content = models.TextField()
    summary = models.CharField(null=True)
    keywords = models.JSONField(null=True, db_default=[])
    tags = models.JSONField(null=True, db_default=[])
    embedding_vector = models.JSONField(null=True)
    context_type = models.CharField(null=True, db_default="general")
    platforms = models.JSONField(null=True, db_default=["facebook", "instagram", "twitter"])
    usage_count = models.IntegerField(null=True, db_default=0)
    effectiveness_score = models.FloatField(null=True, db_default=0.0)
    is_active = models.BooleanField(null=True, db_default=True)
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)
    # Stable external id for APIs and links, added online (TARGET_SCHEMA.md §4).
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)
    source = models.CharField(null=True)
    confidence_score = models.FloatField(db_default=1.0)
    last_used_at = models.DateTimeField(null=True)
    requires_approval = models.BooleanField(db_default=False)

    class Meta:
        db_table = "company_knowledge"
        db_table_comment = LEGACY
        verbose_name_plural = "company knowledge"
        indexes = [
            models.Index(fields=["is_active"], name="ix_company_knowledge_is_active"),
            models.Index(fields=["topic"], name="ix_company_knowledge_topic"),
            # Also serves user_id alone.
            models.Index(fields=["user", "topic"], name="company_knowledge_user_id_topic_idx"),
            # Also serves usage_count alone.
            models.Index(
                fields=["usage_count", "last_used_at"],
                name="company_knowledge_usage_count_last_used_at_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="company_knowledge_public_id_key"),
        ]

    def __str__(self) -> str:
        return self.title


class Memory(models.Model):
    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="memories"
    )
    content = models.TextField()
    memory_type = models.CharField()
    vector_id = models.CharField(null=True)
    relevance_score = models.FloatField(null=True, db_default=1.0)
    memory_metadata = models.JSONField(null=True, db_default={})
    tags = models.JSONField(null=True, db_default=[])
    created_at = models.DateTimeField(null=True, db_default=Now())
    updated_at = models.DateTimeField(null=True)
    access_count = models.IntegerField(null=True, db_default=0)
    last_accessed = models.DateTimeField(null=True)
    # Stable external id for APIs and links, added online (TARGET_SCHEMA.md §4).
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)

    class Meta:
        db_table = "memories"
        db_table_comment = LEGACY
        verbose_name_plural = "memories"
        indexes = [
            models.Index(fields=["created_at"], name="ix_memories_created_at"),
            models.Index(fields=["user", "created_at"], name="ix_memories_user_created"),
            models.Index(fields=["vector_id"], name="ix_memories_vector_id"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="memories_public_id_key"),
        ]

    def __str__(self) -> str:
        return f"{self.memory_type} memory #{self.pk}"


class KnowledgeBaseEntry(models.Model):
    id = models.AutoField(primary_key=True)
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="knowledge_base_entries"
    )
    category = models.CharField(max_length=100, null=True)
    question = models.TextField()
    answer = models.TextField()
    keywords = ArrayField(models.TextField(), null=True)
    usage_count = models.IntegerField(null=True, db_default=0)
    is_public = models.BooleanField(null=True, db_default=False)
    is_active = models.BooleanField(null=True, db_default=True)
    created_at = NaiveUTCDateTimeField(null=True, db_default=Now())
    updated_at = NaiveUTCDateTimeField(null=True, db_default=Now())

    class Meta:
        db_table = "knowledge_base_entries"
        db_table_comment = f"{LEGACY} Superseded by company_knowledge; kept as is (D1)."
        verbose_name_plural = "knowledge base entries"
        indexes = [
            models.Index(fields=["category"], name="idx_knowledge_base_category"),
            GinIndex(fields=["keywords"], name="idx_knowledge_base_keywords"),
            models.Index(fields=["user"], name="idx_knowledge_base_user_id"),
        ]

    def __str__(self) -> str:
        return self.question


# New tables (TARGET_SCHEMA.md §3.7). Column order follows the spec.
#
# A closed vocabulary is declared once at module level, because a model's Meta cannot see
# the classes nested in the model, and is exposed on its model as a nested name
# (``MemoryContent.ContentType``) for callers.


class MemoryContentType(models.TextChoices):
    RESEARCH = "research", "Research"
    POST = "post", "Post"
    INSIGHT = "insight", "Insight"
    TREND = "trend", "Trend"
    NOTE = "note", "Note"  # the platform's memory API stores these two as well
    TEMPLATE = "template", "Template"


class MemorySource(models.TextChoices):
    TWITTER = "twitter", "Twitter"
    WEB = "web", "Web"
    MANUAL = "manual", "Manual"
    GENERATED = "generated", "Generated"


class ResearchData(models.Model):
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)
    title = models.CharField()
    content = models.TextField()
    source_url = models.CharField(null=True)
    platform_source = models.CharField(null=True)  # twitter, web… (open vocabulary)
    relevance_score = models.FloatField(db_default=0.0)
    embedding_id = models.CharField(null=True)  # Id in the vector store.
    tags = models.JSONField(db_default=[])
    created_at = models.DateTimeField(db_default=Now())
    sentiment = models.CharField(null=True)
    topic_category = models.CharField(null=True)
    trending_score = models.FloatField(db_default=0.0)

    class Meta:
        db_table = "research_data"
        db_table_comment = (
            "Research items gathered from platforms and the web, shared by all users."
        )
        verbose_name_plural = "research data"
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="research_data_public_id_key"),
        ]

    def __str__(self) -> str:
        return self.title


class MemoryContent(models.Model):
    id = TextPrimaryKey()  # assigned by the platform
    ContentType = MemoryContentType
    Source = MemorySource

    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)
    content = models.TextField()
    content_type = models.CharField(choices=MemoryContentType)
    source = models.CharField(null=True, choices=MemorySource)
    platform = models.CharField(null=True)
    embedding_id = models.CharField(null=True)
    similarity_cluster = models.CharField(null=True)
    engagement_score = models.FloatField(db_default=0.0)
    performance_tier = models.CharField(db_default="unknown")
    tags = models.JSONField(db_default=[])
    sentiment = models.CharField(null=True)
    topic_category = models.CharField(null=True)
    relevance_score = models.FloatField(db_default=0.5)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)
    content_metadata = models.JSONField(db_default={})

    class Meta:
        db_table = "memory_content"
        db_table_comment = "Shared content memory (marked legacy in the code), with no owner."
        verbose_name_plural = "memory content"
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="memory_content_public_id_key"),
            models.CheckConstraint(
                condition=Q(content_type__in=MemoryContentType.values),
                name="memory_content_content_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(source__in=MemorySource.values), name="memory_content_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.content_type} memory #{self.pk}"
