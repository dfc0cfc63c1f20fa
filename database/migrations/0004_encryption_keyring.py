"""Create ``encryption_keyring``: per key id, a check value sealed under that key (issue 11).

The encrypting migrations that run earlier (accounts.0007, accounts.0014, social.0007) create
it already, on first use, with the same statement (``database.secrets.keyring``); this makes
sure every database has it, also one upgraded before the keyring existed or one whose
upgrade sealed nothing. Backwards it stays, like the archive it vouches for: sealed archived
values outlive the migrations that sealed them.
"""

from django.db import migrations

from database.secrets import keyring


class Migration(migrations.Migration):
    dependencies = [
        ("database", "0003_move_sequences_past_their_max_ids"),
    ]

    operations = [
        migrations.RunSQL(keyring.CREATE_TABLE.strip(), migrations.RunSQL.noop),
    ]
