"""factory-boy factories for every goals model (tests and local data only)."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.factories import UserFactory
from goals import models


class GoalFactory(DjangoModelFactory):
    id = factory.Sequence(lambda n: f"goal_{n}")  # the platform assigns goal ids itself
    user = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Goal {n}")
    goal_type = "follower_growth"
    target_value = 1000.0
    target_date = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=90))

    class Meta:
        model = models.Goal


class GoalProgressFactory(DjangoModelFactory):
    goal = factory.SubFactory(GoalFactory)
    old_value = 100.0
    new_value = 150.0
    change_amount = 50.0
    source = models.GoalProgress.Source.AUTOMATIC

    class Meta:
        model = models.GoalProgress


class MilestoneFactory(DjangoModelFactory):
    goal = factory.SubFactory(GoalFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    target_value = 500.0

    class Meta:
        model = models.Milestone


class MetricFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    metric_type = "followers"
    platform = "instagram"
    value = 1234.0

    class Meta:
        model = models.Metric
