"""Encrypt the accounts secrets in place (TARGET_SCHEMA.md D6, D12, R-17); hash-only fields.

The column types do not change (text, varchar, jsonb): only the field classes, in the state.
Then every plaintext value is encrypted in place in keyset batches, one transaction each,
resumable. Reverse: decrypt in place.
"""

from django.db import migrations

from database import crypto_batches
from database.fields import (
    EncryptedCharField,
    EncryptedJSONField,
    EncryptedTextField,
)

FIELDS = [
    ("User", "two_factor_secret"),
    ("AdminUser", "two_factor_secret"),
    ("UserSettings", "connected_accounts"),
    ("UserCredential", "encrypted_credentials"),
]


def encrypt(apps, schema_editor):
    for model_name, field_name in FIELDS:
        crypto_batches.encrypt_field(
            apps.get_model("accounts", model_name),
            field_name,
            using=schema_editor.connection.alias,
        )


def decrypt(apps, schema_editor):
    for model_name, field_name in FIELDS:
        crypto_batches.decrypt_field(
            apps.get_model("accounts", model_name),
            field_name,
            using=schema_editor.connection.alias,
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("accounts", "0009_target_defaults_columns_and_rules")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField("user", "two_factor_secret", EncryptedCharField(null=True)),
                migrations.AlterField(
                    "adminuser", "two_factor_secret", EncryptedCharField(null=True)
                ),
                migrations.AlterField(
                    "usersettings",
                    "connected_accounts",
                    EncryptedJSONField(null=True, db_default={}),
                ),
                migrations.AlterField(
                    "usercredential", "encrypted_credentials", EncryptedTextField()
                ),
            ]
        ),
        migrations.RunPython(encrypt, decrypt, atomic=False, elidable=False),
    ]
