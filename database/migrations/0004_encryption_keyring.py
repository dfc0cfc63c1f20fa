"""Create ``encryption_keyring``: per key id, a check value sealed under that key (issue 11).

The encrypting migrations that run earlier (accounts.0007, accounts.0014, social.0007) create
it already, on first use, through the same function (``database.keyring_store``); this makes
sure every database has it, also one upgraded before the keyring existed or one whose
upgrade sealed nothing. Backwards it stays, like the archive it vouches for: sealed archived
values outlive the migrations that sealed them.
"""

from django.db import migrations

from database import keyring_store


def create_keyring(apps, schema_editor):
    """Create public.encryption_keyring (kid, check_value, recorded_at) where it is missing."""
    keyring_store.ensure_table(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("database", "0003_move_sequences_past_their_max_ids"),
    ]

    operations = [
        migrations.RunPython(create_keyring, migrations.RunPython.noop, elidable=False),
    ]
