"""The first statement takes its lock without a timeout; the second sets one first."""

from django.db import migrations

TABLE = "lint_plant_item"


class Migration(migrations.Migration):
    dependencies = [("lint_plant", "0007_drops")]

    operations = [
        migrations.RunSQL(f"ALTER TABLE {TABLE} ALTER COLUMN count SET DEFAULT 0"),
        migrations.RunSQL(
            f"SET LOCAL lock_timeout = '2s'; ALTER TABLE {TABLE} ALTER COLUMN count SET DEFAULT 1"
        ),
    ]
