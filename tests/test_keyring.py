"""Keys that cannot be mixed (issue 11): the keyring in the database, checked by every path that
seals, by ``check_integrity``, and ``rotate_keys`` covering the archive.

Everything runs against the real server: ``manage.py`` as an operator runs it, rows compared
before and after.
"""

import base64
import json
import time

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connections
from django.test import override_settings

from database.secrets import batches, crypto, keyring
from social.models import SocialPlatformConnection
from tests.test_crypto_production import ARCHIVED_KEYS, BACKUP_CODES

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
KEY_C = Fernet.generate_key().decode()
ACCESS_TOKEN = batches.Column("social_platform_connections", "access_token", "id", "text")
SEALED_ARCHIVES = [
    ("registration_keys", "key"),
    ("users_two_factor_backup_codes", "two_factor_backup_codes"),
]


def env(default, extra="", active="default"):
    return {
        "TOKEN_ENCRYPTION_KEY": default,
        "TOKEN_ENCRYPTION_KEYS": extra,
        "TOKEN_ENCRYPTION_ACTIVE_KID": active,
    }


def keys(default, extra="", active="default"):
    return override_settings(
        TOKEN_ENCRYPTION_KEY=default,
        TOKEN_ENCRYPTION_KEYS=extra,
        TOKEN_ENCRYPTION_ACTIVE_KID=active,
        TOKEN_ENCRYPTION_DEVELOPMENT_KEY="",
    )


def secrets_at_rest(database) -> list:
    """Every place a secret or the record of the upgrade can be written, to compare."""
    rows = database.execute(
        "SELECT id, access_token, refresh_token FROM social_platform_connections ORDER BY id"
    )
    rows += database.applied_migrations()
    rows += database.execute(
        "SELECT kid, check_value FROM encryption_keyring ORDER BY kid"
        if database.execute("SELECT to_regclass('public.encryption_keyring')")[0][0]
        else "SELECT 'no keyring'"
    )
    for table, column in SEALED_ARCHIVES:
        if database.execute("SELECT to_regclass(%s)", [f"archive.{table}"])[0][0]:
            rows += database.execute(f"SELECT {column} FROM archive.{table} ORDER BY 1")
    return rows


def assert_one_paragraph(result, *phrases):
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in result.stderr


def test_a_resumed_encryption_with_another_key_is_refused_before_any_value_is_written(
    production_db, alias_of
):
    upto = production_db.manage(
        "migrate",
        "--fake-initial",
        "--no-input",
        "social",
        "0006_target_defaults_columns_and_rules",
        env=env(KEY_A),
    )
    assert upto.returncode == 0, upto.stderr
    # The run killed inside social.0007: one of its columns done with KEY_A.
    alias = alias_of(production_db)
    with keys(KEY_A):
        done = batches.encrypt_column(ACCESS_TOKEN, using=alias, log=lambda line: None)
    assert done.rewritten >= 1
    connections[alias].close()
    recorded = production_db.execute("SELECT kid FROM encryption_keyring")
    assert recorded == [("default",)]
    before = secrets_at_rest(production_db)

    resumed = production_db.manage("migrate", "--no-input", env=env(KEY_B))

    assert_one_paragraph(resumed, "key id 'default'", "keyring", "No migration was applied")
    assert secrets_at_rest(production_db) == before
    # With the key it started with, the upgrade completes and every token opens with it.
    again = production_db.manage("migrate", "--no-input", env=env(KEY_A))
    assert again.returncode == 0, again.stderr
    with keys(KEY_A):
        for (stored,) in production_db.execute(
            "SELECT access_token FROM social_platform_connections"
        ):
            crypto.decrypt(stored)


def test_a_migrate_whose_key_does_not_open_the_values_already_sealed_is_refused(
    production_db, alias_of
):
    """A database sealed before the keyring existed: the first key recorded must open them."""
    alias = alias_of(production_db)
    with keys(KEY_A):
        batches.encrypt_column(ACCESS_TOKEN, using=alias, log=lambda line: None)
    connections[alias].close()
    production_db.execute("DROP TABLE encryption_keyring")
    before = secrets_at_rest(production_db)

    result = production_db.manage("migrate", "--fake-initial", "--no-input", env=env(KEY_B))

    assert_one_paragraph(result, "social_platform_connections.access_token", "key id 'default'")
    assert secrets_at_rest(production_db) == before


def test_a_wrong_key_orm_write_is_refused_and_writes_nothing(adopted_alias):
    connection = connections[adopted_alias]
    rows = SocialPlatformConnection.objects.using(adopted_alias)
    stored = "SELECT id, access_token FROM social_platform_connections ORDER BY id"
    with connection.cursor() as cursor:
        cursor.execute(stored)
        before = cursor.fetchall()

    with keys(KEY_B), pytest.raises(crypto.KeyMismatch, match="keyring"):
        rows.filter(pk=before[0][0]).update(access_token="written-with-the-wrong-key")

    with connection.cursor() as cursor:
        cursor.execute(stored)
        assert cursor.fetchall() == before
    # The key the database was written with still writes.
    rows.filter(pk=before[0][0]).update(access_token="written-with-the-right-key")
    assert rows.get(pk=before[0][0]).access_token == "written-with-the-right-key"


def test_a_wrong_key_rotate_keys_is_refused_before_any_value_is_written(adopted_db):
    before = secrets_at_rest(adopted_db)

    wrong_target = adopted_db.manage("rotate_keys", env=env(KEY_B))
    wrong_old_key = adopted_db.manage(
        "rotate_keys", env=env(KEY_B, extra=f"k2:{KEY_C}", active="k2")
    )

    assert_one_paragraph(wrong_target, "Cannot re-encrypt", "key id 'default'", "keyring")
    assert_one_paragraph(wrong_old_key, "Cannot re-encrypt", "key id 'default'", "keyring")
    assert secrets_at_rest(adopted_db) == before


def sealed_under(database, kid: str) -> dict[str, tuple[int, int]]:
    """Per sealed archive column: (values under ``kid``, all values)."""
    counts = {}
    for table, column in SEALED_ARCHIVES:
        ((under, total),) = database.execute(
            f"SELECT count(*) FILTER (WHERE {column} LIKE %s), count(*) FROM archive.{table}",
            [f'%"enc_kid":"{kid}"%'],
        )
        counts[f"{table}.{column}"] = (under, total)
    return counts


def test_rotate_keys_reseals_the_archive_and_backwards_works_without_the_old_key(production_db):
    upgraded = production_db.manage("migrate", "--fake-initial", "--no-input", env=env(KEY_A))
    assert upgraded.returncode == 0, upgraded.stderr
    assert all(
        under == total > 0 for under, total in sealed_under(production_db, "default").values()
    )

    rotation = env(KEY_A, extra=f"k2:{KEY_C}", active="k2")
    dry = production_db.manage("rotate_keys", "--dry-run", env=rotation)
    rotated = production_db.manage("rotate_keys", env=rotation)

    assert dry.returncode == 0, dry.stderr
    assert "archive.registration_keys.key: 2 value(s) to re-seal (default: 2)" in dry.stdout
    assert rotated.returncode == 0, rotated.stderr
    assert "archive.registration_keys.key: 0 value(s) left under other key ids" in rotated.stdout
    assert all(under == total > 0 for under, total in sealed_under(production_db, "k2").values())

    # The old key removed (the public development key stands in for 'default', a wrong one):
    # backwards past accounts.0007 restores every archived secret from under k2.
    only_k2 = env("", extra=f"k2:{KEY_C}", active="k2")
    back = production_db.manage(
        "migrate",
        "accounts",
        "0006_drop_indexes_duplicating_primary_keys",
        "--no-input",
        env=only_k2,
    )
    assert back.returncode == 0, back.stderr
    keys_back = production_db.execute("SELECT key FROM registration_keys ORDER BY key")
    assert sorted(ARCHIVED_KEYS) == [key for (key,) in keys_back]
    ((codes,),) = production_db.execute("SELECT two_factor_backup_codes FROM users WHERE id = 1")
    assert json.loads(codes) == BACKUP_CODES


# -------------------------------------------------------------------------- check_integrity


def envelope(fernet: Fernet, plaintext: str, at: int) -> str:
    token = fernet.encrypt_at_time(plaintext.encode(), at)
    return json.dumps(
        {"enc_version": 1, "enc_kid": "default", "ciphertext": base64.b64encode(token).decode()},
        separators=(",", ":"),
    )


def secrets_findings(database, key: str) -> list[dict]:
    result = database.manage(
        "check_integrity", "--only", "secrets", "--format", "json", env=env(key)
    )
    assert result.returncode in (0, 1), result.stderr
    return [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"]


def test_values_under_two_keys_for_one_key_id_are_reported(adopted_db):
    """Two runs sealed under 'default' with different keys: 150 values each, in sealing order."""
    development = Fernet(settings.TOKEN_ENCRYPTION_DEVELOPMENT_KEY.encode())
    start = int(time.time()) - 10_000
    tokens = [envelope(development, f"token-{i}", start + i) for i in range(150)]
    tokens += [envelope(Fernet(KEY_B.encode()), f"token-{i}", start + i) for i in range(150, 300)]
    adopted_db.execute(
        "INSERT INTO social_platform_connections "
        "(user_id, platform, platform_user_id, platform_username, access_token) "
        "SELECT 1, 'mixed-' || i, 'u' || i, 'n' || i, token "
        "FROM unnest(%s::text[]) WITH ORDINALITY AS t(token, i)",
        [tokens],
    )

    with_recorded_key = secrets_findings(adopted_db, settings.TOKEN_ENCRYPTION_DEVELOPMENT_KEY)
    with_the_other_key = secrets_findings(adopted_db, KEY_B)

    (mixed,) = [f for f in with_recorded_key if f["column"] == "access_token"]
    assert mixed["table"] == "social_platform_connections"
    assert "does not open" in mixed["message"] and "sealing order" in mixed["message"]
    assert "finds any run of" in mixed["message"]
    assert 1 <= mixed["count"] <= 64
    messages = " ".join(f["message"] for f in with_the_other_key)
    assert "is not the key the keyring" in messages
    assert any(f["column"] == "access_token" for f in with_the_other_key)


def test_the_archive_and_the_keyring_are_checked_without_a_finding_when_sound(adopted_db):
    assert secrets_findings(adopted_db, settings.TOKEN_ENCRYPTION_DEVELOPMENT_KEY) == []
    adopted_db.execute(
        "UPDATE archive.registration_keys SET key = %s WHERE id = (SELECT min(id) FROM "
        "archive.registration_keys)",
        [envelope(Fernet(KEY_B.encode()), "not-the-archived-key", int(time.time()))],
    )
    findings = secrets_findings(adopted_db, settings.TOKEN_ENCRYPTION_DEVELOPMENT_KEY)
    assert [f["table"] for f in findings] == ["archive.registration_keys"]


def test_the_keyring_records_each_key_id_once_and_verifies_it(adopted_alias):
    connection = connections[adopted_alias]
    recorded = keyring.recorded(connection)
    assert set(recorded) == {"default"}
    assert keyring.opens(recorded["default"][0])
    with keys(KEY_B), pytest.raises(crypto.KeyMismatch):
        keyring.verify(connection)
    with keys(KEY_B, extra=f"k3:{KEY_C}", active="k3"):
        keyring.verify(connection)
        assert set(keyring.recorded(connection)) == {"default", "k3"}
    with keys(KEY_B, extra=f"k3:{KEY_A}", active="k3"), pytest.raises(crypto.KeyMismatch):
        keyring.verify(connection)
