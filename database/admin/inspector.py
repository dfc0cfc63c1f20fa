"""The read-only ``inspector`` role of the admin: view permission on every model, nothing else.

Two pieces keep it complete:

- ``database/migrations/0001_inspector_group`` creates the group and grants the view
  permission of every model installed when it runs (it creates missing permissions first,
  because Django only creates them after the whole ``migrate``);
- ``grant_inspector_view_permissions``, a ``post_migrate`` receiver, grants the view permission
  of every model again after each ``migrate``, so models added by later migrations (of any
  app) are covered without a new data migration each time. A migration cannot depend on
  "the latest migration of every app", so the receiver is what makes the role robust; the
  migration makes it exist, and reversible, from the first ``migrate`` on.

The archive and integrity pages are no model, so their view permissions
(``INSPECTION_PERMISSIONS``) hang on a content type of their own, ``database.inspection``;
``grant_view_permissions`` creates them and grants them to the group each time it runs: in
``0001_inspector_group`` on a new database, after every ``migrate`` on one migrated before
they existed (no migration of their own is needed), and again after a
``remove_stale_contenttypes`` or a ``flush`` removed them.

The group is never given add, change or delete permissions; the admin itself also refuses
writes to read-only tables for everybody.
"""

from django.db import router

INSPECTOR_GROUP = "inspector"
VIEW_PREFIX = "view_"
INSPECTION_APP_LABEL = "database"
INSPECTION_MODEL = "inspection"  # a content type without a model: the inspection pages
INSPECTION_PERMISSIONS = {
    "view_archive": "Can view the archive of retired rows",
    "view_integrity_report": "Can view the integrity report",
}
ARCHIVE_PERMISSION = f"{INSPECTION_APP_LABEL}.view_archive"
INTEGRITY_PERMISSION = f"{INSPECTION_APP_LABEL}.view_integrity_report"


def grant_view_permissions(apps, using: str, app_configs) -> int:
    """Ensure ``inspector`` exists and holds every view permission of ``app_configs`` and
    those of the inspection pages.

    ``apps`` is a registry (the migration state or the live one); returns how many
    permissions the group holds for those apps afterwards.
    """
    from django.contrib.auth.management import create_permissions

    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
        apps.get_model("contenttypes", "ContentType")
    except LookupError:
        return 0  # auth or contenttypes not migrated on this database (yet)
    if not router.allow_migrate_model(using, group_model):
        return 0
    labels = []
    for app_config in app_configs:
        # Idempotent; Django's own receiver may not have run yet for this app.
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
        labels.append(app_config.label)
    group, _ = group_model.objects.using(using).get_or_create(name=INSPECTOR_GROUP)
    permissions = permission_model.objects.using(using).filter(
        content_type__app_label__in=labels, codename__startswith=VIEW_PREFIX
    )
    # Every time: Django sends post_migrate only for apps with models, which this one lacks.
    inspection = create_inspection_permissions(apps, using)
    group.permissions.add(*permissions, *inspection)
    return len(set(permissions) | set(inspection))


def create_inspection_permissions(apps, using: str) -> list:
    """The view permissions of the inspection pages (idempotent); returns them."""
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    content_type, _ = content_type_model.objects.using(using).get_or_create(
        app_label=INSPECTION_APP_LABEL, model=INSPECTION_MODEL
    )
    return [
        permission_model.objects.using(using).get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in INSPECTION_PERMISSIONS.items()
    ]


def grant_inspector_view_permissions(sender, app_config, using, apps=None, **kwargs) -> None:
    """``post_migrate`` receiver (sent once per app): cover that app's models."""
    if apps is None:
        from django.apps import apps
    grant_view_permissions(apps, using, [app_config])
