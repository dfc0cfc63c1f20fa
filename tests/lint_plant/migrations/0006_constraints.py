import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lint_plant", "0005_not_null")]

    operations = [
        migrations.AddField(
            "item",
            "other",
            models.ForeignKey(
                "lint_plant.other",
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
            ),
        ),
        migrations.AddConstraint(
            "item",
            models.CheckConstraint(
                condition=models.Q(count__gte=0), name="lintplant_item_count_check"
            ),
        ),
    ]
