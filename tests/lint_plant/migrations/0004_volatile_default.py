from django.contrib.postgres.functions import RandomUUID
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("lint_plant", "0003_type")]

    operations = [
        migrations.AddField("item", "token", models.UUIDField(db_default=RandomUUID(), null=True))
    ]
