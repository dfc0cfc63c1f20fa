"""RunDDL runs under the lock timeout, but its raw statements are linted like RunSQL's."""

from django.db import migrations

from database.online.ddl import RunDDL

TABLE = "lint_plant_item"


class Migration(migrations.Migration):
    dependencies = [("lint_plant", "0011_online_recipes")]

    operations = [
        RunDDL([f"ALTER TABLE {TABLE} ALTER COLUMN count TYPE numeric"]),
        RunDDL([f"ALTER TABLE {TABLE} DROP COLUMN name"]),
    ]
