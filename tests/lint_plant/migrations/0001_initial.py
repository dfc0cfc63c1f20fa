"""Tables created here are new: nothing in this migration is checked."""

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel("Other", [("id", models.BigAutoField(primary_key=True))]),
        migrations.CreateModel("Retired", [("id", models.BigAutoField(primary_key=True))]),
        migrations.CreateModel(
            "Item",
            [
                ("id", models.BigAutoField(primary_key=True)),
                ("name", models.CharField(max_length=20, null=True)),
                ("count", models.IntegerField(null=True)),
                ("amount", models.IntegerField(null=True)),
                ("note", models.TextField(null=True)),
                ("label", models.TextField(null=True)),
            ],
        ),
        migrations.AddIndex("item", models.Index(fields=["name"], name="lintplant_item_name_idx")),
    ]
