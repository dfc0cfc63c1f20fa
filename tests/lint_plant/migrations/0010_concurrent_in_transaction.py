from django.db import migrations

from database.online.ddl import CreateIndex


class Migration(migrations.Migration):
    dependencies = [("lint_plant", "0009_unlintable")]

    operations = [CreateIndex("lint_plant_item", "lintplant_item_amount_idx", ["amount"])]
