"""factory-boy factories for every workflows model (tests and local data only)."""

import factory
from factory.django import DjangoModelFactory

from accounts.factories import UserFactory
from workflows import models


class WorkflowExecutionFactory(DjangoModelFactory):
    id = factory.Sequence(lambda n: f"workflow_{n}")  # assigned by the platform
    user = factory.SubFactory(UserFactory)
    workflow_type = models.WorkflowExecution.WorkflowType.DAILY

    class Meta:
        model = models.WorkflowExecution
