"""The accounts secrets keep the platform's own formats (TARGET_SCHEMA.md D12, D17, D19).

No value is rewritten here: every accounts secret column is read by the running platform in a
format of its own (``database.secrets.formats``, ``contract/application/PLATFORM.md``), and a
value wrapped again would be unreadable to it:

- ``users.two_factor_secret``: a TwoFactorService Fernet token (``decrypt_secret`` at login);
- ``admin_users.two_factor_secret``: the raw base32 secret (``admin_auth.verify_2fa_token``);
- ``user_settings.connected_accounts``: a plain JSON object (``social_oauth``; D6 waits for
  the platform), so it keeps its plain ``JSONField``;
- ``user_credentials.encrypted_credentials``: a ``UserCredentials`` blob.

The column types do not change: only the field classes, in the state. The secret columns get
``PlatformSecret*Field`` (stored as given, read back opaque, never re-encrypted); plaintext
left in them is reported by ``check_integrity`` with the platform change it needs. The raw
lookup columns of the new tables stay plain text (D18).
"""

from django.db import migrations

from database.fields import PlatformSecretCharField, PlatformSecretTextField
from database.online.operations import SeparateDatabaseAndState


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_target_defaults_columns_and_rules")]

    operations = [
        SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    "user", "two_factor_secret", PlatformSecretCharField(null=True)
                ),
                migrations.AlterField(
                    "adminuser", "two_factor_secret", PlatformSecretCharField(null=True)
                ),
                migrations.AlterField(
                    "usercredential", "encrypted_credentials", PlatformSecretTextField()
                ),
            ]
        ),
    ]
