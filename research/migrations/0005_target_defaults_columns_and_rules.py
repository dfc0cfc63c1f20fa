"""research: company_knowledge gains the code's columns; memories cascade with their user.

The new columns have constant defaults, so adding them is a catalog change. The memories
foreign key is switched through a validated twin constraint (R-31).
"""

import django.db.models.deletion
from django.db import migrations, models

import database.online.ddl
from database.online.operations import SeparateDatabaseAndState
from database.online.recipes import OnlineAlterField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0009_target_defaults_columns_and_rules"),
        ("research", "0004_research_index_hygiene"),
    ]

    operations = [
        SeparateDatabaseAndState(
            database_operations=[
                database.online.ddl.RunDDL(
                    [
                        "ALTER TABLE company_knowledge "
                        "ADD COLUMN IF NOT EXISTS source character varying, "
                        "ADD COLUMN IF NOT EXISTS confidence_score double precision "
                        "NOT NULL DEFAULT 1.0, "
                        "ADD COLUMN IF NOT EXISTS last_used_at timestamp with time zone, "
                        "ADD COLUMN IF NOT EXISTS requires_approval boolean NOT NULL DEFAULT false",
                    ],
                    reverse_statements=[
                        "ALTER TABLE company_knowledge DROP COLUMN IF EXISTS requires_approval, "
                        "DROP COLUMN IF EXISTS last_used_at, "
                        "DROP COLUMN IF EXISTS confidence_score, DROP COLUMN IF EXISTS source",
                    ],
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="companyknowledge",
                    name="confidence_score",
                    field=models.FloatField(db_default=1.0),
                ),
                migrations.AddField(
                    model_name="companyknowledge",
                    name="last_used_at",
                    field=models.DateTimeField(null=True),
                ),
                migrations.AddField(
                    model_name="companyknowledge",
                    name="requires_approval",
                    field=models.BooleanField(db_default=False),
                ),
                migrations.AddField(
                    model_name="companyknowledge",
                    name="source",
                    field=models.CharField(null=True),
                ),
            ],
        ),
        OnlineAlterField(
            "memory",
            "user",
            models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="memories",
                to="accounts.user",
            ),
        ),
    ]
