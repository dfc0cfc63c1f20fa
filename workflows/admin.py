"""Admin for workflow executions."""

from django.contrib import admin

from database.admin.base import PlatformAdmin
from workflows import models


@admin.register(models.WorkflowExecution)
class WorkflowExecutionAdmin(PlatformAdmin):
    list_display = (
        "id",
        "user",
        "workflow_type",
        "status",
        "current_stage",
        "started_at",
        "completed_at",
    )
    list_select_related = ("user",)
    search_fields = ("id", "public_id", "user")
