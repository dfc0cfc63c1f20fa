"""Secrets of the upgraded sample production database: encrypted at rest, rotatable.

These run once the forward migrations give the **E** columns the encrypted field types
(``database.fields``) and encrypt their values in place; until then they skip, naming the
fields still waiting. They use the real columns, ``pg_dump`` and ``manage.py rotate_keys``
exactly as an operator would.
"""

import hashlib
import json
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.conf import settings
from django.db import connections
from django.test import override_settings

from database import crypto, crypto_batches, scratch
from database.fields import EncryptedFieldMixin

# The E columns of TARGET_SCHEMA.md (D6, R-17) and what sample_data.sql holds in them.
ENCRYPTED_FIELDS = [
    ("social", "SocialPlatformConnection", "access_token"),
    ("social", "SocialPlatformConnection", "refresh_token"),
    ("social", "SocialConnection", "access_token"),
    ("social", "SocialConnection", "refresh_token"),
    ("social", "SocialConnection", "page_access_token"),
    ("social", "SocialConnection", "webhook_secret"),
    ("accounts", "User", "two_factor_secret"),
    ("accounts", "AdminUser", "two_factor_secret"),
    ("accounts", "UserSettings", "connected_accounts"),
    ("accounts", "UserCredential", "encrypted_credentials"),
]
PLAINTEXTS = {
    ("social_platform_connections", "access_token", 1): "DUMMY-IG-ACCESS-TOKEN-0001",
    ("social_platform_connections", "access_token", 2): "DUMMY-FB-PAGE-TOKEN-0002",
    ("users", "two_factor_secret", 1): "WWS2PEBWTYYRCLSVOXGRCAS44SYU5IRW",
}


# User 1's 2FA backup codes (sample_data.sql): hashed in place, the originals archived sealed.
BACKUP_CODES = [
    "7F33-BC28",
    "65B9-01F4",
    "7CA3-BC53",
    "D3FA-CB25",
    "047C-2E00",
    "1DD4-9477",
    "A964-0A85",
    "F465-EDA1",
]

# The retired registration keys (sample_data.sql), archived encrypted.
ARCHIVED_KEYS = [
    "xrAlKcigKb37kVx4w1ld79RF9cmOpXeqyX5dO4MgRnk",
    "YCmjg0MWugKyIbdI42vSFFFp8Ilb8EutiZ5hc-wD4KA",
]


def not_yet_encrypted() -> list[str]:
    waiting = []
    for app_label, model_name, field_name in ENCRYPTED_FIELDS:
        try:
            model_field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
        except LookupError:
            waiting.append(f"{app_label}.{model_name}.{field_name} (no such field)")
            continue
        if not isinstance(model_field, EncryptedFieldMixin):
            waiting.append(f"{app_label}.{model_name}.{field_name}")
    return waiting


@pytest.fixture
def encrypted_schema():
    waiting = not_yet_encrypted()
    if waiting:
        pytest.skip("waiting for the forward migrations to encrypt: " + ", ".join(waiting))


def database_url(alias) -> str:
    return scratch.database_url(
        connections[alias].settings_dict, connections[alias].settings_dict["NAME"]
    )


def stored(alias, table, column, pk) -> str:
    with connections[alias].cursor() as cursor:
        cursor.execute(f'SELECT "{column}"::text FROM "{table}" WHERE id = %s', [pk])
        return cursor.fetchone()[0]


def test_the_e_columns_are_declared_encrypted():
    """Lists, while it skips, which field swaps are still to come (see the report)."""
    waiting = not_yet_encrypted()
    if waiting:
        pytest.skip("waiting for the forward migrations to encrypt: " + ", ".join(waiting))
    found = {c.label for c in crypto_batches.encrypted_columns()}
    assert {f"{a}.{m}.{f}" for a, m, f in ENCRYPTED_FIELDS} <= found


def test_pg_dump_of_the_upgraded_database_holds_no_plaintext_secret(
    encrypted_schema, adopted_alias
):
    from tests.test_baseline import _pg_dump_binary

    dump = subprocess.run(
        [_pg_dump_binary(), "--data-only", database_url(adopted_alias)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "sunrisebakery" in dump  # the rows are there
    assert "RcdevO2glp2n9x8fkAoFzA" in dump  # the archive schema is dumped too
    secrets = [*PLAINTEXTS.values(), *ARCHIVED_KEYS, *BACKUP_CODES]
    assert [secret for secret in secrets if secret in dump] == []
    for (table, column, pk), plaintext in PLAINTEXTS.items():
        assert crypto.decrypt(stored(adopted_alias, table, column, pk)) == plaintext
    hashed = json.loads(stored(adopted_alias, "users", "two_factor_backup_codes", 1))
    assert hashed == [hashlib.sha256(code.encode()).hexdigest() for code in BACKUP_CODES]


def test_rotate_keys_on_the_real_columns_leaves_nothing_under_the_old_kid(
    encrypted_schema, adopted_alias
):
    new_key = Fernet.generate_key().decode()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(adopted_alias),
        "TOKEN_ENCRYPTION_KEYS": f"k2:{new_key}",
        "TOKEN_ENCRYPTION_ACTIVE_KID": "k2",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "rotate_keys"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every encrypted value is under key id 'k2'" in result.stdout
    with override_settings(
        TOKEN_ENCRYPTION_KEYS=f"k2:{new_key}", TOKEN_ENCRYPTION_ACTIVE_KID="k2"
    ):
        for column in crypto_batches.encrypted_columns():
            assert crypto_batches.remaining(column, kid="k2", using=adopted_alias) == {}, column
        for (table, column, pk), plaintext in PLAINTEXTS.items():
            value = stored(adopted_alias, table, column, pk)
            assert crypto.envelope_kid(value) == "k2"
            assert crypto.decrypt(value) == plaintext
        settings_row = stored(adopted_alias, "user_settings", "connected_accounts", 1)
        assert json.loads(crypto.decrypt(json.loads(settings_row))) == {}
