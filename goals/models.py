"""Goals: what users aim for on their platforms, and how they progress (§3.3).

All tables here are new. A closed vocabulary is declared once at module level, because a
model's Meta cannot see the classes nested in the model, and is exposed on its model as a
nested name (``Goal.Status``) for callers.
"""

from django.contrib.postgres.functions import RandomUUID
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from database.fields import TextPrimaryKey


class GoalStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class ProgressSource(models.TextChoices):
    MANUAL = "manual", "Manual"
    AUTOMATIC = "automatic", "Automatic"
    IMPORT = "import", "Import"


class Goal(models.Model):
    id = TextPrimaryKey()  # assigned by the platform
    Status = GoalStatus

    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)
    user = models.ForeignKey("accounts.User", models.CASCADE, db_index=False, related_name="goals")
    title = models.CharField()
    description = models.TextField(null=True)
    goal_type = models.CharField()  # follower_growth, engagement_rate… (open vocabulary)
    target_value = models.FloatField()
    current_value = models.FloatField(db_default=0.0)
    target_date = models.DateTimeField()
    status = models.CharField(choices=GoalStatus, db_default=GoalStatus.ACTIVE)
    platform = models.CharField(null=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)
    completed_at = models.DateTimeField(null=True)
    goal_metadata = models.JSONField(db_default={})

    class Meta:
        db_table = "goals"
        db_table_comment = "A user's targets, such as follower growth by a date."
        indexes = [
            models.Index(fields=["user"], name="goals_user_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="goals_public_id_key"),
            models.CheckConstraint(
                condition=Q(status__in=GoalStatus.values), name="goals_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class GoalProgress(models.Model):
    Source = ProgressSource

    goal = models.ForeignKey(Goal, models.CASCADE, db_index=False, related_name="progress_logs")
    old_value = models.FloatField()
    new_value = models.FloatField()
    change_amount = models.FloatField()
    recorded_at = models.DateTimeField(db_default=Now())
    source = models.CharField(null=True, choices=ProgressSource)
    notes = models.TextField(null=True)

    class Meta:
        db_table = "goal_progress"
        db_table_comment = "Log of changes to a goal's current value."
        verbose_name_plural = "goal progress"
        indexes = [
            models.Index(fields=["goal"], name="goal_progress_goal_id_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=ProgressSource.values), name="goal_progress_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Goal {self.goal_id}: {self.old_value} -> {self.new_value}"


class Milestone(models.Model):
    public_id = models.UUIDField(db_default=RandomUUID(), editable=False)
    goal = models.ForeignKey(Goal, models.CASCADE, db_index=False, related_name="milestones")
    title = models.CharField()
    description = models.TextField(null=True)
    target_value = models.FloatField()
    target_date = models.DateTimeField(null=True)
    achieved = models.BooleanField(db_default=False)
    achieved_at = models.DateTimeField(null=True)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "milestones"
        db_table_comment = "Intermediate targets on the way to a goal."
        indexes = [
            models.Index(fields=["goal"], name="milestones_goal_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["public_id"], name="milestones_public_id_key"),
        ]

    def __str__(self) -> str:
        return self.title


class Metric(models.Model):
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="metrics"
    )
    metric_type = models.CharField()  # engagement, reach, followers… (open vocabulary)
    platform = models.CharField()
    value = models.FloatField()
    date_recorded = models.DateTimeField(db_default=Now())
    metric_metadata = models.JSONField(db_default={})

    class Meta:
        db_table = "metrics"
        db_table_comment = "Point-in-time measurements of a user's platform metrics."
        indexes = [
            # Also serves user_id alone.
            models.Index(
                fields=["user", "metric_type", "date_recorded"],
                name="idx_metrics_user_type_date",
            ),
            models.Index(fields=["platform", "date_recorded"], name="idx_metrics_platform_date"),
        ]

    def __str__(self) -> str:
        return f"{self.metric_type} on {self.platform}: {self.value}"
