"""Admin for organizations, teams and roles. Invitation token hashes are masked by the base."""

from django.contrib import admin

from database.admin.base import PlatformAdmin
from organizations import models


@admin.register(models.Organization)
class OrganizationAdmin(PlatformAdmin):
    list_display = (
        "id",
        "name",
        "slug",
        "plan_type",
        "subscription_status",
        "owner",
        "created_at",
    )
    list_select_related = ("owner",)
    search_fields = ("id", "slug", "owner")


@admin.register(models.Team)
class TeamAdmin(PlatformAdmin):
    list_display = ("id", "name", "organization", "default_role", "is_default", "created_by")
    list_select_related = ("organization", "created_by")
    list_filter = ("is_default",)
    search_fields = ("id", "organization")


@admin.register(models.Role)
class RoleAdmin(PlatformAdmin):
    list_display = ("id", "name", "display_name", "level", "is_system_role")
    list_filter = ("is_system_role",)
    search_fields = ("id", "name")


@admin.register(models.Permission)
class PermissionAdmin(PlatformAdmin):
    list_display = ("id", "name", "display_name", "resource", "action", "is_system_permission")
    list_filter = ("is_system_permission",)
    search_fields = ("id", "name", "resource")


@admin.register(models.RolePermission)
class RolePermissionAdmin(PlatformAdmin):
    list_display = ("id", "role", "permission")
    list_select_related = ("role", "permission")
    search_fields = ("id", "role", "permission")


@admin.register(models.UserTeam)
class UserTeamAdmin(PlatformAdmin):
    list_display = ("id", "user", "team", "role", "is_active", "joined_at")
    list_select_related = ("user", "team")
    list_filter = ("is_active",)
    search_fields = ("id", "user", "team")


@admin.register(models.UserOrganizationRole)
class UserOrganizationRoleAdmin(PlatformAdmin):
    list_display = ("id", "user", "organization", "role", "is_active", "assigned_by")
    list_select_related = ("user", "organization", "role", "assigned_by")
    list_filter = ("is_active",)
    search_fields = ("id", "user", "organization")


@admin.register(models.OrganizationInvitation)
class OrganizationInvitationAdmin(PlatformAdmin):
    list_display = ("id", "email", "organization", "team", "role", "status", "expires_at")
    list_select_related = ("organization", "team")
    search_fields = ("id", "organization")
