from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lint_plant", "0004_volatile_default")]

    operations = [
        migrations.AlterField("item", "name", models.CharField(max_length=20, default=""))
    ]
