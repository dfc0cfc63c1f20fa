"""research: company_knowledge gains the code's columns; memories cascade with their user.

The new columns have constant defaults, so adding them is a catalog change. The memories
foreign key is switched through a validated twin constraint (R-31).
"""

import django.db.models.deletion
from django.db import migrations, models

from database.online.recipes import OnlineAddField, OnlineAlterField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0009_target_defaults_columns_and_rules"),
        ("research", "0004_research_index_hygiene"),
    ]

    operations = [
        # In production's column order (a fresh build equals an adopted production).
        OnlineAddField("companyknowledge", "source", models.CharField(null=True)),
        OnlineAddField("companyknowledge", "confidence_score", models.FloatField(db_default=1.0)),
        OnlineAddField("companyknowledge", "last_used_at", models.DateTimeField(null=True)),
        OnlineAddField(
            "companyknowledge", "requires_approval", models.BooleanField(db_default=False)
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
