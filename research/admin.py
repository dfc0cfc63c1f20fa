"""Admin for research: company knowledge, memories and the research tables."""

from django.contrib import admin

from database.admin.base import IndexedValuesFilter, PlatformAdmin, ReadOnlyAdmin
from research import models


@admin.register(models.CompanyKnowledge)
class CompanyKnowledgeAdmin(PlatformAdmin):
    list_display = ("id", "title", "topic", "user", "usage_count", "is_active", "created_at")
    list_select_related = ("user",)
    list_filter = ("is_active", ("topic", IndexedValuesFilter))
    search_fields = ("id", "public_id", "user", "topic")


@admin.register(models.Memory)
class MemoryAdmin(PlatformAdmin):
    list_display = ("id", "user", "memory_type", "relevance_score", "access_count", "created_at")
    list_select_related = ("user",)
    search_fields = ("id", "public_id", "user", "vector_id")


@admin.register(models.KnowledgeBaseEntry)
class KnowledgeBaseEntryAdmin(ReadOnlyAdmin):
    """Legacy (D1): superseded by company_knowledge, kept as it is."""

    list_display = ("id", "user", "category", "usage_count", "is_public", "is_active")
    list_select_related = ("user",)
    list_filter = ("is_active", "is_public", ("category", IndexedValuesFilter))
    search_fields = ("id", "user", "category")


@admin.register(models.ResearchData)
class ResearchDataAdmin(PlatformAdmin):
    list_display = ("id", "title", "platform_source", "relevance_score", "created_at")
    search_fields = ("id", "public_id")


@admin.register(models.MemoryContent)
class MemoryContentAdmin(PlatformAdmin):
    list_display = ("id", "content_type", "source", "platform", "performance_tier", "created_at")
    search_fields = ("id", "public_id")
