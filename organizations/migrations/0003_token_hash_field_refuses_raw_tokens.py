"""organization_invitations.token_hash holds only hashes: the field now refuses a raw token.

State only: the column stays character varying.
"""

from django.db import migrations

import database.fields


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0002_seed_roles_and_permissions"),
    ]

    operations = [
        migrations.AlterField(
            model_name="organizationinvitation",
            name="token_hash",
            field=database.fields.TokenHashField(),
        ),
    ]
