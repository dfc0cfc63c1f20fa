"""Seed the system roles, the system permissions and which role grants which (§3.2).

The running application checks access against these rows; an organization cannot have an
owner, admin or member without them. The values are those of the platform's Alembic
revision 012. Its rows used strings such as ``'org_owner'`` and ``'users_create'`` as ids;
here roles and permissions are keyed by ``name`` (R-23), and the links by the pair of names.

Idempotent (``update_or_create`` on the natural keys) and reversible: the reverse deletes
exactly the seeded links, permissions and roles.
"""

from django.db import migrations

# (name, display_name, description, level, color)
ROLES = [
    ("super_admin", "Super Admin", "Full system access across all organizations", 100, "#DC2626"),
    ("org_owner", "Organization Owner", "Full access within organization", 90, "#7C3AED"),
    ("admin", "Administrator", "Administrative access within organization", 80, "#059669"),
    ("manager", "Manager", "Team management and content approval", 70, "#0EA5E9"),
    ("member", "Member", "Standard user access", 50, "#6B7280"),
    ("viewer", "Viewer", "Read-only access", 30, "#9CA3AF"),
]

# (resource, action, display_name, description); the name is "<resource>.<action>".
PERMISSIONS = [
    ("users", "create", "Create Users", "Create new user accounts"),
    ("users", "read", "View Users", "View user information"),
    ("users", "update", "Update Users", "Update user information"),
    ("users", "delete", "Delete Users", "Delete user accounts"),
    ("organizations", "create", "Create Organizations", "Create new organizations"),
    ("organizations", "read", "View Organizations", "View organization information"),
    ("organizations", "update", "Update Organizations", "Update organization settings"),
    ("organizations", "delete", "Delete Organizations", "Delete organizations"),
    ("teams", "create", "Create Teams", "Create new teams"),
    ("teams", "read", "View Teams", "View team information"),
    ("teams", "update", "Update Teams", "Update team settings"),
    ("teams", "delete", "Delete Teams", "Delete teams"),
    ("content", "create", "Create Content", "Create new content"),
    ("content", "read", "View Content", "View content"),
    ("content", "update", "Update Content", "Edit content"),
    ("content", "delete", "Delete Content", "Delete content"),
    ("content", "publish", "Publish Content", "Publish content to social platforms"),
    ("social_accounts", "connect", "Connect Social Accounts", "Connect social media accounts"),
    ("social_accounts", "read", "View Social Accounts", "View connected social accounts"),
    (
        "social_accounts",
        "disconnect",
        "Disconnect Social Accounts",
        "Disconnect social media accounts",
    ),
    ("analytics", "read", "View Analytics", "View performance analytics"),
    ("settings", "read", "View Settings", "View organization/team settings"),
    ("settings", "update", "Update Settings", "Update organization/team settings"),
]

ALL_PERMISSIONS = [f"{resource}.{action}" for resource, action, _, _ in PERMISSIONS]

# Role name -> permission names. super_admin gets every system permission.
ROLE_PERMISSIONS = {
    "super_admin": ALL_PERMISSIONS,
    "org_owner": [
        "users.create", "users.read", "users.update", "users.delete",
        "organizations.read", "organizations.update",
        "teams.create", "teams.read", "teams.update", "teams.delete",
        "content.create", "content.read", "content.update", "content.delete", "content.publish",
        "social_accounts.connect", "social_accounts.read", "social_accounts.disconnect",
        "analytics.read", "settings.read", "settings.update",
    ],
    "admin": [
        "users.create", "users.read", "users.update",
        "organizations.read", "teams.read", "teams.update",
        "content.create", "content.read", "content.update", "content.delete", "content.publish",
        "social_accounts.connect", "social_accounts.read", "social_accounts.disconnect",
        "analytics.read", "settings.read", "settings.update",
    ],
    "manager": [
        "users.read", "organizations.read", "teams.read",
        "content.create", "content.read", "content.update", "content.publish",
        "social_accounts.read", "analytics.read", "settings.read",
    ],
    "member": [
        "users.read", "organizations.read", "teams.read",
        "content.create", "content.read", "content.update",
        "social_accounts.connect", "social_accounts.read", "analytics.read", "settings.read",
    ],
    "viewer": [
        "users.read", "organizations.read", "teams.read",
        "content.read", "social_accounts.read", "analytics.read", "settings.read",
    ],
}  # fmt: skip


def seed(apps, schema_editor):
    """Insert or update the system roles, permissions and role_permissions (new tables)."""
    alias = schema_editor.connection.alias
    Role = apps.get_model("organizations", "Role")
    Permission = apps.get_model("organizations", "Permission")
    RolePermission = apps.get_model("organizations", "RolePermission")
    roles = {}
    for name, display_name, description, level, color in ROLES:
        roles[name], _ = Role.objects.using(alias).update_or_create(
            name=name,
            defaults={
                "display_name": display_name,
                "description": description,
                "level": level,
                "is_system_role": True,
                "color": color,
            },
        )
    permissions = {}
    for resource, action, display_name, description in PERMISSIONS:
        name = f"{resource}.{action}"
        permissions[name], _ = Permission.objects.using(alias).update_or_create(
            name=name,
            defaults={
                "display_name": display_name,
                "description": description,
                "resource": resource,
                "action": action,
                "is_system_permission": True,
            },
        )
    for role_name, permission_names in ROLE_PERMISSIONS.items():
        for permission_name in permission_names:
            RolePermission.objects.using(alias).update_or_create(
                role=roles[role_name], permission=permissions[permission_name]
            )


def unseed(apps, schema_editor):
    """Delete the seeded role_permissions, permissions and roles."""
    alias = schema_editor.connection.alias
    Role = apps.get_model("organizations", "Role")
    Permission = apps.get_model("organizations", "Permission")
    RolePermission = apps.get_model("organizations", "RolePermission")
    for role_name, permission_names in ROLE_PERMISSIONS.items():
        RolePermission.objects.using(alias).filter(
            role__name=role_name, permission__name__in=permission_names
        ).delete()
    Permission.objects.using(alias).filter(name__in=ALL_PERMISSIONS).delete()
    Role.objects.using(alias).filter(name__in=[row[0] for row in ROLES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, unseed),
    ]
