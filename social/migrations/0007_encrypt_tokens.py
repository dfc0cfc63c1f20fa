"""Encrypt the connection tokens in place (TARGET_SCHEMA.md D12, R-17)."""

from django.db import migrations

from database import crypto_batches
from database.fields import EncryptedTextField

FIELDS = [
    ("SocialPlatformConnection", "access_token"),
    ("SocialPlatformConnection", "refresh_token"),
    ("SocialConnection", "access_token"),
    ("SocialConnection", "refresh_token"),
    ("SocialConnection", "page_access_token"),
    ("SocialConnection", "webhook_secret"),
]


def encrypt(apps, schema_editor):
    for model_name, field_name in FIELDS:
        crypto_batches.encrypt_field(
            apps.get_model("social", model_name), field_name, using=schema_editor.connection.alias
        )


def decrypt(apps, schema_editor):
    for model_name, field_name in FIELDS:
        crypto_batches.decrypt_field(
            apps.get_model("social", model_name), field_name, using=schema_editor.connection.alias
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("social", "0006_target_defaults_columns_and_rules")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    "socialplatformconnection", "access_token", EncryptedTextField()
                ),
                migrations.AlterField(
                    "socialplatformconnection", "refresh_token", EncryptedTextField(null=True)
                ),
                migrations.AlterField(
                    "socialconnection", "access_token", EncryptedTextField(null=True)
                ),
                migrations.AlterField(
                    "socialconnection", "refresh_token", EncryptedTextField(null=True)
                ),
                migrations.AlterField(
                    "socialconnection", "page_access_token", EncryptedTextField(null=True)
                ),
                migrations.AlterField(
                    "socialconnection", "webhook_secret", EncryptedTextField(null=True)
                ),
            ]
        ),
        migrations.RunPython(encrypt, decrypt, atomic=False, elidable=False),
    ]
