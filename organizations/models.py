"""Organizations: tenants, their teams, and role-based access (TARGET_SCHEMA.md §3.2).

All tables here are new. roles, permissions and role_permissions are global reference data
(R-28), seeded by a data migration; the other tables belong to an organization.

A closed vocabulary is declared once at module level, because a model's Meta cannot see the
classes nested in the model, and is exposed on its model as a nested name
(``Organization.PlanType``) for callers.
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from database.fields import TextUUIDPrimaryKey

DEFAULT_FEATURES = ["basic_posting", "scheduling", "analytics"]


class PlanType(models.TextChoices):
    STARTER = "starter", "Starter"
    PROFESSIONAL = "professional", "Professional"
    ENTERPRISE = "enterprise", "Enterprise"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    CANCELLED = "cancelled", "Cancelled"


class TeamRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class Organization(models.Model):
    id = TextUUIDPrimaryKey()
    PlanType = PlanType
    SubscriptionStatus = SubscriptionStatus

    name = models.CharField()
    slug = models.CharField()
    description = models.TextField(null=True)
    plan_type = models.CharField(choices=PlanType, db_default=PlanType.STARTER)
    max_users = models.IntegerField(db_default=5)
    max_teams = models.IntegerField(db_default=2)
    max_social_accounts = models.IntegerField(db_default=3)
    subscription_status = models.CharField(
        choices=SubscriptionStatus, db_default=SubscriptionStatus.ACTIVE
    )
    billing_email = models.CharField(null=True)
    settings = models.JSONField(db_default={})
    features_enabled = models.JSONField(db_default=DEFAULT_FEATURES)
    # PROTECT: ownership must be transferred before the owner can be deleted.
    owner = models.ForeignKey(
        "accounts.User", models.PROTECT, db_index=False, related_name="owned_organizations"
    )
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)

    class Meta:
        db_table = "organizations"
        db_table_comment = "Tenants: a company or group whose members share social accounts."
        indexes = [
            models.Index(fields=["owner"], name="organizations_owner_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["slug"], name="organizations_slug_key"),
            models.CheckConstraint(
                condition=Q(plan_type__in=PlanType.values), name="organizations_plan_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(subscription_status__in=SubscriptionStatus.values),
                name="organizations_subscription_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    id = TextUUIDPrimaryKey()
    organization = models.ForeignKey(
        Organization, models.CASCADE, db_index=False, related_name="teams"
    )
    name = models.CharField()
    description = models.TextField(null=True)
    default_role = models.CharField(db_default="member")
    is_default = models.BooleanField(db_default=False)
    settings = models.JSONField(db_default={})
    # SET NULL: informational; the team outlives its creator.
    created_by = models.ForeignKey(
        "accounts.User",
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="created_teams",
    )
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)

    class Meta:
        db_table = "teams"
        db_table_comment = "Groups of members inside an organization."
        indexes = [
            # organization_id is covered by uq_org_team_name.
            models.Index(fields=["created_by"], name="teams_created_by_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="uq_org_team_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    id = TextUUIDPrimaryKey()
    name = models.CharField()
    display_name = models.CharField()
    description = models.TextField(null=True)
    level = models.IntegerField()  # Higher means more rights (30 to 100).
    is_system_role = models.BooleanField(db_default=False)
    color = models.CharField(db_default="#6B7280")
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)
    permissions = models.ManyToManyField(
        "Permission", through="RolePermission", related_name="roles"
    )

    class Meta:
        db_table = "roles"
        db_table_comment = "Global roles a member can hold in an organization (reference data)."
        constraints = [
            models.UniqueConstraint(fields=["name"], name="roles_name_key"),
        ]

    def __str__(self) -> str:
        return self.display_name


class Permission(models.Model):
    id = TextUUIDPrimaryKey()
    name = models.CharField()
    display_name = models.CharField()
    description = models.TextField(null=True)
    resource = models.CharField()
    action = models.CharField()
    is_system_permission = models.BooleanField(db_default=False)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "permissions"
        db_table_comment = "Global permissions, one per resource and action (reference data)."
        constraints = [
            models.UniqueConstraint(fields=["name"], name="permissions_name_key"),
            models.UniqueConstraint(fields=["resource", "action"], name="uq_resource_action"),
        ]

    def __str__(self) -> str:
        return self.name


class RolePermission(models.Model):
    role = models.ForeignKey(Role, models.CASCADE, db_index=False, related_name="+")
    permission = models.ForeignKey(Permission, models.CASCADE, db_index=False, related_name="+")

    class Meta:
        db_table = "role_permissions"
        db_table_comment = "Which permissions each role grants (reference data)."
        indexes = [
            # role_id is covered by role_permissions_role_id_permission_id_key.
            models.Index(fields=["permission"], name="role_permissions_permission_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["role", "permission"], name="role_permissions_role_id_permission_id_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role_id} grants {self.permission_id}"


class UserTeam(models.Model):
    Role = TeamRole

    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="team_memberships"
    )
    team = models.ForeignKey(Team, models.CASCADE, db_index=False, related_name="memberships")
    role = models.CharField(choices=TeamRole, db_default=TeamRole.MEMBER)
    joined_at = models.DateTimeField(db_default=Now())
    is_active = models.BooleanField(db_default=True)

    class Meta:
        db_table = "user_teams"
        db_table_comment = "Team memberships; the organization is the team's."
        indexes = [
            # user_id is covered by user_teams_user_id_team_id_key.
            models.Index(fields=["team"], name="user_teams_team_id_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "team"], name="user_teams_user_id_team_id_key"
            ),
            models.CheckConstraint(
                condition=Q(role__in=TeamRole.values), name="user_teams_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"User {self.user_id} in team {self.team_id} as {self.role}"


class UserOrganizationRole(models.Model):
    id = TextUUIDPrimaryKey()
    user = models.ForeignKey(
        "accounts.User", models.CASCADE, db_index=False, related_name="organization_roles"
    )
    organization = models.ForeignKey(
        Organization, models.CASCADE, db_index=False, related_name="member_roles"
    )
    # PROTECT: roles are shared reference data; one in use cannot be deleted.
    role = models.ForeignKey(Role, models.PROTECT, db_index=False, related_name="assignments")
    # SET NULL: informational; the membership outlives whoever granted it.
    assigned_by = models.ForeignKey(
        "accounts.User",
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="assigned_organization_roles",
    )
    assigned_at = models.DateTimeField(db_default=Now())
    is_active = models.BooleanField(db_default=True)
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)

    class Meta:
        db_table = "user_organization_roles"
        db_table_comment = "The role each member holds in an organization (at most one)."
        indexes = [
            # organization_id is covered by uq_user_organization.
            models.Index(fields=["user"], name="user_organization_roles_user_id_idx"),
            models.Index(fields=["role"], name="user_organization_roles_role_id_idx"),
            models.Index(
                fields=["assigned_by"], name="user_organization_roles_assigned_by_id_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="uq_user_organization"),
        ]

    def __str__(self) -> str:
        return f"User {self.user_id} in organization {self.organization_id}"


class OrganizationInvitation(models.Model):
    id = TextUUIDPrimaryKey()
    Status = InvitationStatus

    organization = models.ForeignKey(
        Organization, models.CASCADE, db_index=False, related_name="invitations"
    )
    # SET NULL: the target team is optional; the invitation survives the team.
    team = models.ForeignKey(
        Team, models.SET_NULL, db_index=False, null=True, related_name="invitations"
    )
    email = models.CharField()
    role = models.CharField(db_default="member")  # A role name to grant, not a foreign key.
    # The raw token: the platform finds the invitation by it (D18). Hashing it needs the
    # platform to change first.
    token = models.CharField()
    status = models.CharField(choices=InvitationStatus, db_default=InvitationStatus.PENDING)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True)
    # SET NULL: informational; the invitation outlives whoever sent it.
    invited_by = models.ForeignKey(
        "accounts.User",
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="sent_invitations",
    )
    # SET NULL: set on acceptance; the record outlives the invited user.
    invited_user = models.ForeignKey(
        "accounts.User",
        models.SET_NULL,
        db_index=False,
        null=True,
        related_name="received_invitations",
    )
    created_at = models.DateTimeField(db_default=Now())
    updated_at = models.DateTimeField(null=True, auto_now=True)

    class Meta:
        db_table = "organization_invitations"
        db_table_comment = "Invitations to join an organization."
        indexes = [
            models.Index(
                fields=["organization"], name="organization_invitations_organization_id_idx"
            ),
            models.Index(fields=["team"], name="organization_invitations_team_id_idx"),
            models.Index(fields=["invited_by"], name="organization_invitations_invited_by_id_idx"),
            models.Index(
                fields=["invited_user"], name="organization_invitations_invited_user_id_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["token"], name="organization_invitations_token_key"),
            models.CheckConstraint(
                condition=Q(status__in=InvitationStatus.values),
                name="organization_invitations_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to organization {self.organization_id}"
