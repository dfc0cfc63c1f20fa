"""Create the read-only ``inspector`` group with the view permission of every model.

Permissions normally appear only after a whole ``migrate``; this migration creates the missing
ones for the models of its migration state, then grants their view permission. Models added
by later migrations are granted by the ``post_migrate`` receiver in
``database.admin.inspector`` (see its docstring for why both exist). The reverse deletes the
group (its permission rows stay: Django owns them).
"""

from django.db import migrations

from database.admin.inspector import INSPECTOR_GROUP, grant_view_permissions


def create_inspector_group(apps, schema_editor):
    """Create the read-only inspector group with the view permissions of every model."""
    from django.apps import apps as installed_apps

    grant_view_permissions(apps, schema_editor.connection.alias, installed_apps.get_app_configs())


def delete_inspector_group(apps, schema_editor):
    """Delete the inspector group."""
    group_model = apps.get_model("auth", "Group")
    group_model.objects.using(schema_editor.connection.alias).filter(name=INSPECTOR_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("accounts", "0007_retire_registration_keys"),
        ("organizations", "0002_seed_roles_and_permissions"),
        ("goals", "0001_initial"),
        ("content", "0006_content_index_hygiene"),
        ("social", "0004_social_index_hygiene"),
        ("workflows", "0001_initial"),
        ("research", "0004_research_index_hygiene"),
    ]

    operations = [
        migrations.RunPython(create_inspector_group, delete_inspector_group, elidable=False),
    ]
