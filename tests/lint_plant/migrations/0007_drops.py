from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("lint_plant", "0006_constraints")]

    operations = [migrations.RemoveField("item", "note"), migrations.DeleteModel("Retired")]
