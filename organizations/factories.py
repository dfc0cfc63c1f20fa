"""factory-boy factories for every organizations model (tests and local data only)."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.factories import UserFactory
from organizations import models


class OrganizationFactory(DjangoModelFactory):
    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")
    owner = factory.SubFactory(UserFactory)

    class Meta:
        model = models.Organization


class TeamFactory(DjangoModelFactory):
    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Team {n}")

    class Meta:
        model = models.Team


class RoleFactory(DjangoModelFactory):
    # Distinct from the seeded system roles (super_admin, org_owner, ...).
    name = factory.Sequence(lambda n: f"custom_role_{n}")
    display_name = factory.Sequence(lambda n: f"Custom role {n}")
    level = 40

    class Meta:
        model = models.Role


class PermissionFactory(DjangoModelFactory):
    # Distinct from the seeded system permissions (users.create, ...).
    resource = factory.Sequence(lambda n: f"custom_resource_{n}")
    action = "read"
    name = factory.LazyAttribute(lambda o: f"{o.resource}.{o.action}")
    display_name = factory.LazyAttribute(lambda o: f"Read {o.resource}")

    class Meta:
        model = models.Permission


class RolePermissionFactory(DjangoModelFactory):
    role = factory.SubFactory(RoleFactory)
    permission = factory.SubFactory(PermissionFactory)

    class Meta:
        model = models.RolePermission


class UserTeamFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)

    class Meta:
        model = models.UserTeam


class UserOrganizationRoleFactory(DjangoModelFactory):
    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = factory.SubFactory(RoleFactory)

    class Meta:
        model = models.UserOrganizationRole


class OrganizationInvitationFactory(DjangoModelFactory):
    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    token = factory.Sequence(lambda n: f"invite-{n}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))

    class Meta:
        model = models.OrganizationInvitation
