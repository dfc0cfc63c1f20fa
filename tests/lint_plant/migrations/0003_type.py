from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lint_plant", "0002_index")]

    operations = [migrations.AlterField("item", "count", models.BigIntegerField(null=True))]
