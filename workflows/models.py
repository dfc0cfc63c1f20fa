"""Workflows: runs of the automated content pipeline (TARGET_SCHEMA.md §3.6).

A closed vocabulary is declared once at module level, because a model's Meta cannot see the
classes nested in the model, and is exposed on its model as a nested name
(``WorkflowExecution.Status``) for callers.
"""

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from database.fields import TextPrimaryKey


class WorkflowType(models.TextChoices):
    DAILY = "daily", "Daily"
    OPTIMIZATION = "optimization", "Optimization"
    MANUAL = "manual", "Manual"
    RESEARCH = "research", "Research"  # accepted by the platform's workflow API
    CONTENT_GENERATION = "content_generation", "Content generation"


class WorkflowStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class WorkflowExecution(models.Model):
    id = TextPrimaryKey()  # assigned by the platform
    WorkflowType = WorkflowType
    Status = WorkflowStatus

    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="workflow_executions"
    )
    workflow_type = models.CharField(choices=WorkflowType)
    status = models.CharField(choices=WorkflowStatus, db_default=WorkflowStatus.RUNNING)
    started_at = models.DateTimeField(db_default=Now())
    completed_at = models.DateTimeField(null=True)
    duration_seconds = models.IntegerField(null=True)
    current_stage = models.CharField(null=True)
    completed_stages = models.JSONField(db_default=[])
    failed_stages = models.JSONField(db_default=[])
    content_generated = models.IntegerField(db_default=0)
    posts_scheduled = models.IntegerField(db_default=0)
    research_items = models.IntegerField(db_default=0)
    error_message = models.TextField(null=True)
    retry_count = models.IntegerField(db_default=0)
    execution_params = models.JSONField(db_default={})
    results_summary = models.JSONField(db_default={})

    class Meta:
        db_table = "workflow_executions"
        db_table_comment = "One run of a user's content workflow, its stages and results."
        indexes = [
            models.Index(fields=["user"], name="workflow_executions_user_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["public_id"], name="workflow_executions_public_id_key"
            ),
            models.CheckConstraint(
                condition=Q(workflow_type__in=WorkflowType.values),
                name="workflow_executions_workflow_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=WorkflowStatus.values),
                name="workflow_executions_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_type} workflow #{self.pk} ({self.status})"
