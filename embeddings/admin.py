"""Admin for the optional embedding tables: hidden where the database lacks them.

The vectors themselves (1536 numbers) are never loaded into the lists or forms; the change
page shows only their size, and rows are not added here (the platform computes the vectors).
"""

from django.contrib import admin
from django.db import connections, router
from django.http import Http404

import embeddings
from database.admin.base import IndexedValuesFilter, PlatformAdmin
from embeddings import models


class OptionalTableAdmin(PlatformAdmin):
    """Where its table does not exist (one catalog lookup per request) the model is not
    listed in the admin index, nobody may see or write it, and its pages answer 404, as
    for a model that is not there."""

    exclude = ("embedding",)

    def tables_present(self, request) -> bool:
        alias = router.db_for_read(self.model)
        cache = request.__dict__.setdefault("_embeddings_available", {})
        if alias not in cache:
            cache[alias] = embeddings.available(connections[alias])
        return cache[alias]

    def has_module_permission(self, request):
        return self.tables_present(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self.tables_present(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False  # vectors come from the platform's embedding service, not a form

    def has_change_permission(self, request, obj=None):
        return self.tables_present(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.tables_present(request) and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("embedding")

    def require_tables(self, request) -> None:
        if not self.tables_present(request):
            raise Http404(
                f"The table {self.model._meta.db_table} does not exist in this database "
                "(its server lacks pgvector)."
            )

    def changelist_view(self, request, extra_context=None):
        self.require_tables(request)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self.require_tables(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self.require_tables(request)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self.require_tables(request)
        return super().history_view(request, object_id, extra_context)

    @admin.display(description="embedding")
    def embedding_size(self, obj) -> str:
        return f"{models.DIMENSIONS} dimensions, model {obj.embedding_model}"


@admin.register(models.ContentEmbedding)
class ContentEmbeddingAdmin(OptionalTableAdmin):
    list_display = ("id", "user", "content_id", "embedding_model", "created_at")
    list_select_related = ("user",)
    search_fields = ("id", "user", "content_id")
    readonly_fields = ("embedding_size",)


@admin.register(models.MemoryEmbedding)
class MemoryEmbeddingAdmin(OptionalTableAdmin):
    list_display = ("id", "user", "title", "memory_type", "embedding_model", "created_at")
    list_select_related = ("user",)
    list_filter = (("memory_type", IndexedValuesFilter),)
    search_fields = ("id", "public_id", "user", "memory_type")
    readonly_fields = ("embedding_size",)
