from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DatabaseConfig(AppConfig):
    name = "database"
    verbose_name = "Database tooling"

    def ready(self):
        from database.admin.inspector import grant_inspector_view_permissions
        from database.secrets import deploy_checks  # noqa: F401  (registers the checks)

        # After every migrate: the inspector group can view every model, new ones included.
        post_migrate.connect(
            grant_inspector_view_permissions, dispatch_uid="database.inspector_view_permissions"
        )
