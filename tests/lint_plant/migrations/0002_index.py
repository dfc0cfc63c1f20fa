from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lint_plant", "0001_initial")]

    operations = [
        migrations.AddIndex(
            "item", models.Index(fields=["count"], name="lintplant_item_count_idx")
        ),
    ]
