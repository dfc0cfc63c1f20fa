"""Secrets of the upgraded sample production database: encrypted at rest, rotatable, and every
value already in a platform format (D17) left byte for byte by the upgrade.

They use the real columns, ``pg_dump``, ``manage.py migrate --fake-initial``, ``rotate_keys`` and
``check_integrity`` exactly as an operator would.
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
from django.db.models import JSONField
from django.test import override_settings

from database.fields import EncryptedFieldMixin, SecretFieldMixin
from database.schema import scratch
from database.secrets import batches, crypto

# The E columns of TARGET_SCHEMA.md the upgrade encrypts, and what sample_data.sql holds.
ENCRYPTED_FIELDS = [
    ("social", "SocialPlatformConnection", "access_token"),
    ("social", "SocialPlatformConnection", "refresh_token"),
    ("social", "SocialConnection", "access_token"),
    ("social", "SocialConnection", "refresh_token"),
    ("social", "SocialConnection", "page_access_token"),
    ("social", "SocialConnection", "webhook_secret"),
]
PLAINTEXTS = {
    ("social_platform_connections", "access_token", 1): "DUMMY-IG-ACCESS-TOKEN-0001",
    ("social_platform_connections", "access_token", 2): "DUMMY-FB-PAGE-TOKEN-0002",
}
# Read by the platform in formats of its own (D17): never rewritten by the upgrade. User 1's
# plaintext 2FA secret stays until TwoFactorService encrypts it (check_integrity names it).
PLATFORM_FORMAT_FIELDS = [
    ("accounts", "User", "two_factor_secret"),
    ("accounts", "AdminUser", "two_factor_secret"),
    ("accounts", "UserCredential", "encrypted_credentials"),
]
LEFT_FOR_THE_PLATFORM = {("users", "two_factor_secret", 1): "WWS2PEBWTYYRCLSVOXGRCAS44SYU5IRW"}


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
    found = {c.label for c in batches.encrypted_columns()}
    assert {f"{a}.{m}.{f}" for a, m, f in ENCRYPTED_FIELDS} <= found
    # Columns the platform reads in its own format are never encrypted by this project.
    assert not {f"{a}.{m}.{f}" for a, m, f in PLATFORM_FORMAT_FIELDS} & found
    assert "accounts.UserSettings.connected_accounts" not in found
    for app_label, model_name, field_name in PLATFORM_FORMAT_FIELDS:
        model_field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
        assert isinstance(model_field, SecretFieldMixin)
        assert not isinstance(model_field, EncryptedFieldMixin)
    connected = apps.get_model("accounts", "UserSettings")._meta.get_field("connected_accounts")
    assert type(connected) is JSONField


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
    # Not ours to encrypt (its reader decrypts with the platform's own key): kept as it was.
    for (table, column, pk), value in LEFT_FOR_THE_PLATFORM.items():
        assert stored(adopted_alias, table, column, pk) == value
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
        for column in batches.encrypted_columns():
            assert batches.remaining(column, kid="k2", using=adopted_alias) == {}, column
        for (table, column, pk), plaintext in PLAINTEXTS.items():
            value = stored(adopted_alias, table, column, pk)
            assert crypto.envelope_kid(value) == "k2"
            assert crypto.decrypt(value) == plaintext
        # Not encrypted columns: rotate_keys leaves them alone.
        assert json.loads(stored(adopted_alias, "user_settings", "connected_accounts", 1)) == {}
        for (table, column, pk), value in LEFT_FOR_THE_PLATFORM.items():
            assert stored(adopted_alias, table, column, pk) == value


# ------------------------------------------------------- platform formats through the upgrade


@pytest.fixture
def production_alias(production_db, django_db_blocker):
    """A Django connection alias on ``production_db`` (opened after its upgrade)."""
    with (
        django_db_blocker.unblock(),
        scratch.database_alias(connections.settings["default"], production_db.name) as alias,
    ):
        yield alias


def test_the_upgrade_keeps_every_platform_format_and_encrypts_only_plaintext_tokens(
    production_db, production_alias
):
    from tests.test_crypto_formats import hashed_codes, token_manager_blob, two_factor_token

    blob = token_manager_blob({"access_token": "DUMMY-TM-ACCESS-0001", "platform": "instagram"})
    envelope = crypto.encrypt("DUMMY-ENVELOPE-REFRESH-0001")  # as encryption.py writes it
    fernet = two_factor_token("JBSWY3DPEHPK3PXP")
    codes = hashed_codes("AB12-CD34", "EF56-7890")
    connected = {"twitter": {"access_token": "DUMMY-TW-0001", "refresh_token": "DUMMY-TW-R"}}
    production_db.execute(
        "UPDATE social_platform_connections SET access_token = %s, refresh_token = %s "
        "WHERE id = 1",
        [blob, envelope],
    )
    production_db.execute(
        "UPDATE social_platform_connections SET refresh_token = 'DUMMY-FB-REFRESH-0002' "
        "WHERE id = 2"
    )
    production_db.execute(
        "UPDATE users SET two_factor_secret = %s, two_factor_backup_codes = %s, "
        "two_factor_enabled = true WHERE id = 2",
        [fernet, codes],
    )
    production_db.execute(
        "UPDATE user_settings SET connected_accounts = %s::json WHERE id = 1",
        [json.dumps(connected)],
    )

    result = production_db.manage("migrate", "--fake-initial", "--no-input")
    assert result.returncode == 0, result.stderr

    def value(statement):
        return production_db.execute(statement)[0][0]

    # Every value already in a platform format reads back byte for byte.
    assert value("SELECT access_token FROM social_platform_connections WHERE id = 1") == blob
    assert value("SELECT refresh_token FROM social_platform_connections WHERE id = 1") == envelope
    assert value("SELECT two_factor_secret FROM users WHERE id = 2") == fernet
    assert value("SELECT two_factor_backup_codes FROM users WHERE id = 2") == json.loads(codes)
    # Plaintext social tokens became envelopes that decrypt to the original.
    for column, original in [
        ("access_token", "DUMMY-FB-PAGE-TOKEN-0002"),
        ("refresh_token", "DUMMY-FB-REFRESH-0002"),
    ]:
        stored_value = value(f"SELECT {column} FROM social_platform_connections WHERE id = 2")
        assert crypto.is_envelope(stored_value)
        assert crypto.decrypt(stored_value) == original
    # connected_accounts is still the same plain JSON object, in a jsonb column.
    assert value("SELECT connected_accounts FROM user_settings WHERE id = 1") == connected
    assert (
        value(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'user_settings' AND column_name = 'connected_accounts'"
        )
        == "jsonb"
    )
    # User 1's plaintext 2FA secret is not ours to encrypt: left as it was.
    assert (
        value("SELECT two_factor_secret FROM users WHERE id = 1")
        == (LEFT_FOR_THE_PLATFORM[("users", "two_factor_secret", 1)])
    )

    # Django reads each format without re-wrapping it on save.
    from accounts.models import User, UserSettings
    from social.models import SocialPlatformConnection

    alias = production_alias
    connection = SocialPlatformConnection.objects.using(alias).get(pk=1)
    assert connection.access_token == blob and "DUMMY" not in repr(connection.access_token)
    assert connection.refresh_token == "DUMMY-ENVELOPE-REFRESH-0001"
    connection.save(using=alias)
    assert value("SELECT access_token FROM social_platform_connections WHERE id = 1") == blob
    user = User.objects.using(alias).get(pk=2)
    user.save(using=alias)
    assert value("SELECT two_factor_secret FROM users WHERE id = 2") == fernet
    settings_row = UserSettings.objects.using(alias).get(pk=1)
    assert settings_row.connected_accounts == connected
    settings_row.save(using=alias)
    assert value("SELECT connected_accounts FROM user_settings WHERE id = 1") == connected

    # The integrity report names the plaintext secrets left and the platform change each needs.
    report = production_db.manage("check_integrity", "--only", "secrets", "--format", "json")
    findings = json.loads(report.stdout)["findings"]
    by_column = {(f["table"], f["column"]): f for f in findings}
    two_factor = by_column[("users", "two_factor_secret")]
    assert two_factor["sample"] == ["1"] and "TwoFactorService" in two_factor["message"]
    accounts = by_column[("user_settings", "connected_accounts")]
    assert accounts["sample"] == ["1"] and "store_user_tokens" in accounts["message"]
    assert ("social_platform_connections", "access_token") not in by_column
    secrets = [
        "DUMMY",
        "JBSWY3DPEHPK3PXP",
        LEFT_FOR_THE_PLATFORM[("users", "two_factor_secret", 1)],
    ]
    assert [secret for secret in secrets if secret in report.stdout] == []


def test_migrate_refuses_before_applying_anything_when_the_key_is_missing(production_db):
    result = production_db.manage(
        "migrate",
        "--fake-initial",
        "--no-input",
        env={
            "DJANGO_DEVELOPMENT_KEYS": "0",
            "TOKEN_ENCRYPTION_KEY": "",
            "TOKEN_ENCRYPTION_KEYS": "",
        },
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert "accounts.0007_retire_registration_keys" in result.stderr
    assert "no encryption key for key id 'default'" in result.stderr
    assert "Nothing was applied" in result.stderr
    assert "Traceback" not in result.stderr
    assert production_db.applied_migrations() == []
