"""Admin for goals and their progress."""

from django.contrib import admin

from database.admin.base import IndexedValuesFilter, PlatformAdmin
from goals import models


@admin.register(models.Goal)
class GoalAdmin(PlatformAdmin):
    list_display = ("id", "title", "user", "goal_type", "status", "platform", "target_date")
    list_select_related = ("user",)
    search_fields = ("id", "public_id", "user")


@admin.register(models.GoalProgress)
class GoalProgressAdmin(PlatformAdmin):
    list_display = ("id", "goal", "old_value", "new_value", "change_amount", "recorded_at")
    list_select_related = ("goal",)
    search_fields = ("id", "goal")


@admin.register(models.Milestone)
class MilestoneAdmin(PlatformAdmin):
    list_display = ("id", "title", "goal", "target_value", "achieved", "achieved_at")
    list_select_related = ("goal",)
    list_filter = ("achieved",)
    search_fields = ("id", "public_id", "goal")


@admin.register(models.Metric)
class MetricAdmin(PlatformAdmin):
    list_display = ("id", "user", "metric_type", "platform", "value", "date_recorded")
    list_select_related = ("user",)
    list_filter = (("platform", IndexedValuesFilter),)
    search_fields = ("id", "user")
