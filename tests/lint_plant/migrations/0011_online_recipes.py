"""The same kinds of change done the project's online way: nothing to report."""

from django.db import migrations, models

from database.archive import ArchiveRows
from database.conversions import ChangeColumnType
from database.online import AddForeignKey, RunDDL, add_public_id
from database.operations import SeparateDatabaseAndState
from database.recipes import OnlineAddIndex

TABLE = "lint_plant_item"


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("lint_plant", "0010_concurrent_in_transaction")]

    operations = [
        OnlineAddIndex(
            "item", models.Index(fields=["name", "count"], name="lintplant_item_name_count_idx")
        ),
        *add_public_id("item", TABLE),
        SeparateDatabaseAndState(
            database_operations=[
                ChangeColumnType(TABLE, "amount", "numeric(12,2)", reverse_type="integer")
            ],
            state_operations=[
                migrations.AlterField(
                    "item",
                    "amount",
                    models.DecimalField(max_digits=12, decimal_places=2, null=True),
                )
            ],
        ),
        AddForeignKey(
            TABLE, "lintplant_item_other_next", "other_id", "lint_plant_other", "SET NULL"
        ),
        ArchiveRows(TABLE, "lintplant_item_label", "lint_plant.0011", columns=["id", "label"]),
        SeparateDatabaseAndState(
            database_operations=[RunDDL([f"ALTER TABLE {TABLE} DROP COLUMN label"])],
            state_operations=[migrations.RemoveField("item", "label")],
        ),
    ]
