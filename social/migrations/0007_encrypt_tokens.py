"""Encrypt the plaintext connection tokens in place (TARGET_SCHEMA.md D12, D17, R-17).

Only plaintext is rewritten, into the D12 envelope, which the platform's ``decrypt_token``
reads. A value already in a platform format is left byte for byte
(``database.secrets.formats``): the envelopes ``encrypt_token`` wrote and, in
``social_platform_connections``, the token manager's blobs (``Z0FBQUFB…``), which its
``get_access_token`` reads and an envelope around them would break. Keyset batches, one
transaction each, resumable. The column types do not change: only the field classes.

Reverse: decrypts the envelopes back to plaintext (the state before), which includes any
envelope the platform wrote itself; blobs of other formats stay as they are.
"""

from django.db import migrations

from database.fields import EncryptedTextField
from database.online.operations import SeparateDatabaseAndState
from database.secrets import batches

FIELDS = [
    ("SocialPlatformConnection", "access_token"),
    ("SocialPlatformConnection", "refresh_token"),
    ("SocialConnection", "access_token"),
    ("SocialConnection", "refresh_token"),
    ("SocialConnection", "page_access_token"),
    ("SocialConnection", "webhook_secret"),
]


def encrypt(apps, schema_editor):
    """Encrypt plaintext connection tokens in place, in keyset batches (Python, resumable)."""
    for model_name, field_name in FIELDS:
        batches.encrypt_field(
            apps.get_model("social", model_name), field_name, using=schema_editor.connection.alias
        )


def decrypt(apps, schema_editor):
    """Decrypt the envelopes back to plaintext, in keyset batches."""
    for model_name, field_name in FIELDS:
        batches.decrypt_field(
            apps.get_model("social", model_name), field_name, using=schema_editor.connection.alias
        )


class Migration(migrations.Migration):
    # Seals or encrypts secrets: migrate refuses to start without the active key.
    needs_encryption_keys = True

    atomic = False

    dependencies = [("social", "0006_target_defaults_columns_and_rules")]

    operations = [
        SeparateDatabaseAndState(
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
