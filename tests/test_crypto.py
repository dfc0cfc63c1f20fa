"""The envelope format shared with the running platform, keys, fields and deploy checks."""

import base64
import json
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.test import override_settings

from database.fields import (
    EncryptedCharField,
    EncryptedJSONField,
    EncryptedLegacyJSONField,
    EncryptedTextField,
)
from database.secrets import crypto, deploy_checks

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def keys(default=KEY_A, extra="", active="default", development=""):
    return override_settings(
        TOKEN_ENCRYPTION_KEY=default,
        TOKEN_ENCRYPTION_KEYS=extra,
        TOKEN_ENCRYPTION_ACTIVE_KID=active,
        TOKEN_ENCRYPTION_DEVELOPMENT_KEY=development,
    )


def platform_encrypt(plaintext: str, key: str, kid: str = "default") -> str:
    """What the running platform's backend/core/encryption.py writes, step by step."""
    token = Fernet(key.encode()).encrypt(plaintext.encode("utf-8"))
    envelope = {
        "enc_version": 1,
        "enc_kid": kid,
        "ciphertext": base64.b64encode(token).decode("utf-8"),
    }
    return json.dumps(envelope, separators=(",", ":"))


def platform_decrypt(envelope_json: str, key: str) -> str:
    envelope = json.loads(envelope_json)
    token = base64.b64decode(envelope["ciphertext"])
    return Fernet(key.encode()).decrypt(token).decode("utf-8")


# --------------------------------------------------------------------------- the envelope


def test_envelope_is_the_platforms_compact_json_with_kid_and_version():
    with keys():
        stored = crypto.encrypt("DUMMY-IG-ACCESS-TOKEN-0001")
    assert stored.startswith('{"enc_version":1,"enc_kid":"default","ciphertext":"')
    assert list(json.loads(stored)) == ["enc_version", "enc_kid", "ciphertext"]
    assert "DUMMY" not in stored
    assert platform_decrypt(stored, KEY_A) == "DUMMY-IG-ACCESS-TOKEN-0001"


def test_values_the_platform_wrote_decrypt():
    stored = platform_encrypt("tok-ünïcødé-✓", KEY_A)
    with keys():
        assert crypto.decrypt(stored) == "tok-ünïcødé-✓"
        assert crypto.decrypt(json.loads(stored)) == "tok-ünïcødé-✓"


def test_a_bare_fernet_token_in_ciphertext_is_also_read():
    token = Fernet(KEY_A.encode()).encrypt(b"secret").decode()
    stored = json.dumps({"enc_version": 1, "enc_kid": "default", "ciphertext": token})
    with keys():
        assert crypto.decrypt(stored) == "secret"


def test_a_passphrase_key_is_stretched_exactly_as_the_platform_does():
    passphrase = "not a fernet key, a passphrase"
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"stable_salt_for_consistency",
        iterations=100_000,
    )
    platform_key = base64.urlsafe_b64encode(kdf.derive(passphrase.encode())).decode()
    with keys(default=passphrase):
        stored = crypto.encrypt("abc")
    assert platform_decrypt(stored, platform_key) == "abc"


def test_empty_string_round_trips_and_the_platforms_empty_form_reads_as_empty():
    with keys():
        stored = crypto.encrypt("")
        assert crypto.is_envelope(stored)
        assert crypto.decrypt(stored) == ""
        assert crypto.decrypt("") == ""


def test_an_envelope_is_never_encrypted_twice():
    with keys():
        stored = crypto.encrypt("abc")
        assert crypto.ensure_encrypted(stored) == stored
        assert crypto.ensure_encrypted("abc") != "abc"


def test_reencrypt_moves_a_value_to_another_kid_and_keeps_it():
    with keys(extra=f"k2:{KEY_B}"):
        stored = crypto.encrypt("abc")
        moved = crypto.reencrypt(stored, kid="k2")
        assert crypto.envelope_kid(moved) == "k2"
        assert crypto.decrypt(moved) == "abc"
        assert crypto.reencrypt(moved, kid="k2") == moved


def test_active_kid_selects_the_key_new_values_are_written_with():
    with keys(extra=f"k2:{KEY_B}", active="k2"):
        stored = crypto.encrypt("abc")
        assert crypto.envelope_kid(stored) == "k2"
        assert platform_decrypt(stored, KEY_B) == "abc"
        # Values under the old id still decrypt.
        assert crypto.decrypt(platform_encrypt("old", KEY_A)) == "old"


def test_keys_do_not_derive_from_secret_key():
    with keys():
        stored = crypto.encrypt("abc")
    with keys(), override_settings(SECRET_KEY="something-else-entirely" * 3):
        assert crypto.decrypt(stored) == "abc"


# ----------------------------------------------------------------------- failing loudly


def test_a_missing_key_fails_loudly_on_encrypt_and_decrypt():
    stored = platform_encrypt("abc", KEY_A)
    with keys(default=""):
        with pytest.raises(crypto.KeyNotConfigured, match="TOKEN_ENCRYPTION_KEY"):
            crypto.encrypt("abc")
        with pytest.raises(crypto.KeyNotConfigured):
            crypto.decrypt(stored)


def test_a_wrong_key_fails_loudly_and_never_returns_the_ciphertext():
    stored = platform_encrypt("abc", KEY_A)
    with keys(default=KEY_B), pytest.raises(crypto.DecryptionFailed, match="does not decrypt"):
        crypto.decrypt(stored)


def test_an_unknown_kid_fails_loudly():
    stored = platform_encrypt("abc", KEY_A, kid="retired")
    with keys(), pytest.raises(crypto.KeyNotConfigured, match="retired"):
        crypto.decrypt(stored)


def test_a_tampered_ciphertext_fails_loudly():
    envelope = json.loads(platform_encrypt("abc", KEY_A))
    token = bytearray(base64.b64decode(envelope["ciphertext"]))
    token[-5] ^= 1
    envelope["ciphertext"] = base64.b64encode(bytes(token)).decode()
    with keys(), pytest.raises(crypto.EncryptionError):
        crypto.decrypt(envelope)


@pytest.mark.parametrize(
    "value",
    [
        {"enc_version": 2, "enc_kid": "default", "ciphertext": "x"},
        {"enc_version": 1, "enc_kid": "default"},
        {"enc_version": 1, "enc_kid": "", "ciphertext": "x"},
    ],
)
def test_malformed_envelopes_are_refused_not_treated_as_plaintext(value):
    with pytest.raises(crypto.InvalidEnvelope):
        crypto.parse_envelope(value)
    with pytest.raises(crypto.InvalidEnvelope):
        crypto.parse_envelope(json.dumps(value))


def test_plaintext_is_not_an_envelope_and_does_not_decrypt():
    assert crypto.parse_envelope("DUMMY-FB-PAGE-TOKEN-0002") is None
    assert crypto.parse_envelope({"instagram": {"access_token": "x"}}) is None
    with keys(), pytest.raises(crypto.InvalidEnvelope):
        crypto.decrypt("DUMMY-FB-PAGE-TOKEN-0002")


def test_key_list_must_name_each_key():
    with pytest.raises(crypto.KeyNotConfigured):
        crypto.parse_key_list("k1:abc,oops")
    with pytest.raises(crypto.KeyNotConfigured):
        crypto.parse_key_list("k1:abc,k1:def")
    assert crypto.parse_key_list(" k1:abc , k2:def ") == {"k1": "abc", "k2": "def"}


def test_the_development_key_stands_in_only_when_settings_provide_it():
    with keys(default="", development=settings.TOKEN_ENCRYPTION_DEVELOPMENT_KEY or KEY_B):
        assert crypto.keyring().development
        assert crypto.decrypt(crypto.encrypt("x")) == "x"
    with keys(default=KEY_A, development=KEY_B):
        assert not crypto.keyring().development


def test_masked_hint_shows_the_kid_and_never_the_value():
    with keys():
        stored = crypto.encrypt("WWS2PEBWTYYRCLSVOXGRCAS44SYU5IRW")
    assert crypto.masked(stored) == "•••• (encrypted, kid default)"
    assert crypto.masked("WWS2PEBWTYYRCLSVOXGRCAS44SYU5IRW") == "•••• (not yet encrypted)"
    assert crypto.masked("abc", kind="hash") == "•••• (hash)"
    assert crypto.masked(None) == "—"


# ------------------------------------------------------------------------------ fields


def test_encrypted_text_field_stores_the_envelope_and_reads_the_plaintext():
    field = EncryptedTextField()
    with keys():
        stored = field.get_db_prep_value("secret-token", connection=None)
        assert crypto.is_envelope(stored)
        assert field.from_db_value(stored, None, None) == "secret-token"
        # Already encrypted (e.g. written by the platform): stored unchanged.
        platform = platform_encrypt("p", KEY_A)
        assert field.get_db_prep_value(platform, connection=None) == platform
        # A row the in-place encryption has not reached yet.
        assert field.from_db_value("legacy-plain", None, None) == "legacy-plain"
        assert field.from_db_value(None, None, None) is None
        assert field.get_db_prep_value(None, connection=None) is None


def test_encrypted_field_fails_loudly_when_the_key_is_wrong():
    field = EncryptedCharField()
    stored = platform_encrypt("abc", KEY_A)
    with keys(default=KEY_B), pytest.raises(crypto.DecryptionFailed):
        field.from_db_value(stored, None, None)


def test_encrypted_fields_allow_only_isnull_lookups():
    field = EncryptedTextField()
    assert field.get_lookup("isnull") is not None
    assert field.get_lookup("exact") is None
    assert field.get_lookup("icontains") is None
    assert EncryptedJSONField().get_transform("access_token") is None


def test_encrypted_char_field_refuses_a_max_length():
    field = EncryptedCharField(max_length=255)
    field.name = "two_factor_secret"
    field.model = type("M", (), {"_meta": None})
    assert "database.E110" in [error.id for error in field.check()]


def test_encrypted_json_field_encrypts_the_whole_value(django_db_blocker):
    from django.db import connection, transaction

    value = {"instagram": {"access_token": "DUMMY-IG-ACCESS-TOKEN-0001", "expires": 3600}}
    field = EncryptedJSONField()
    # A key id of its own, recorded in the keyring inside a transaction that is rolled back:
    # the test database's keyring keeps the key its migrations recorded.
    with (
        keys(extra=f"field-test:{KEY_B}", active="field-test"),
        django_db_blocker.unblock(),
        transaction.atomic(),
    ):
        adapted = field.get_db_prep_value(value, connection)
        stored = adapted.obj  # the Jsonb wrapper's object: the envelope
        assert crypto.is_envelope(stored)
        assert "DUMMY" not in json.dumps(stored)
        assert field.from_db_value(json.dumps(stored), None, None) == value
        assert field.from_db_value('{"plain": 1}', None, None) == {"plain": 1}
        transaction.set_rollback(True)


def test_legacy_json_variant_reads_values_psycopg_already_decoded():
    field = EncryptedLegacyJSONField()
    assert field.db_type(None) == "json"
    with keys():
        envelope = crypto.encrypt_to_dict(json.dumps([1, 2, {"t": "x"}]))
        assert field.from_db_value(envelope, None, None) == [1, 2, {"t": "x"}]
        # An envelope the platform stored as a JSON string.
        assert field.from_db_value(json.dumps(envelope), None, None) == [1, 2, {"t": "x"}]
        assert field.from_db_value({}, None, None) == {}


# ------------------------------------------------------------------------ deploy checks


def ids(errors):
    return sorted(error.id for error in errors)


def test_deploy_check_requires_token_encryption_key():
    with keys(default=""):
        assert "database.E102" in ids(deploy_checks.check_token_encryption_keys(None))
    with keys():
        assert ids(deploy_checks.check_token_encryption_keys(None)) == []


def test_deploy_check_refuses_the_development_key_and_a_missing_active_key():
    with keys(default="", extra=f"other:{KEY_B}", development=KEY_A):
        assert "database.E102" in ids(deploy_checks.check_token_encryption_keys(None))
    with keys(extra=f"k2:{KEY_B}", active="k3"):
        assert ids(deploy_checks.check_token_encryption_keys(None)) == ["database.E103"]


def test_deploy_check_refuses_the_development_secret_key():
    with override_settings(SECRET_KEY=deploy_checks.DEVELOPMENT_SECRET_KEY_PREFIX + "-x" * 30):
        assert ids(deploy_checks.check_secret_key_is_set(None)) == ["database.E101"]


PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_DEVELOPMENT_KEYS": "0",
    "DJANGO_SECRET_KEY": "k9#vQ2!xR7@mL4$wT8^zB1&nC6*pF3(hJ5)sD0_gY2+eU7=aW4-iO9~qZ3",
    "DJANGO_ALLOWED_HOSTS": "platform.example",
    "DJANGO_HTTPS": "1",
    "TOKEN_ENCRYPTION_KEY": KEY_A,
}


def run_check_deploy(env_overrides, server):
    from database.schema.scratch import database_url

    env = {**os.environ, **PRODUCTION_ENV, **env_overrides}
    env = {name: value for name, value in env.items() if value is not None}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env={**env, "DATABASE_URL": database_url(server, "postgres")},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_at_warning_level(server):
    result = run_check_deploy({}, server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"TOKEN_ENCRYPTION_KEY": None}, "database.E102"),
        ({"DJANGO_SECRET_KEY": None}, "database.E101"),
        ({"DJANGO_HTTPS": "0"}, "security.W004"),
        ({"DJANGO_DEBUG": "1"}, "security.W018"),
    ],
)
def test_check_deploy_fails_when_production_settings_are_incomplete(server, override, expected):
    result = run_check_deploy(override, server)
    assert result.returncode != 0
    assert expected in result.stderr + result.stdout


def test_a_database_default_of_an_encrypted_field_stays_plain(db):
    from django.db import connection, models
    from django.test.utils import isolate_apps

    with isolate_apps("database"):

        class Defaults(models.Model):
            accounts = EncryptedJSONField(null=True, db_default={})
            note = EncryptedTextField(null=True, db_default="")

            class Meta:
                app_label = "database"

            def __str__(self) -> str:
                return str(self.pk)

        with keys(), connection.schema_editor(collect_sql=True) as editor:
            editor.create_model(Defaults)
    ddl = " ".join(editor.collected_sql)
    assert "DEFAULT '{}'" in ddl
    assert "enc_version" not in ddl
