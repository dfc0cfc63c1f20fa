"""Every secret format of the running platform is recognised, kept verbatim and never re-wrapped.

The values are built the way PLATFORM.md describes each writer (its own keys, which this
project never has): a TwoFactorService bare Fernet token, a token-manager blob, a
user-credentials blob, hashed backup codes, and the D12 envelope.
"""

import base64
import hashlib
import json

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from database.fields import (
    EncryptedTextField,
    PlatformSecretCharField,
    PlatformSecretTextField,
    SecretFieldMixin,
)
from database.secrets import crypto, formats
from database.secrets.formats import (
    BACKUP_CODES,
    ENVELOPE,
    FERNET,
    PLAINTEXT,
    TOKEN_MANAGER,
    USER_CREDENTIALS,
    OpaqueSecret,
    classify,
)

OUR_KEY = Fernet.generate_key().decode()
PLATFORM_SECRET_KEY = "the-platforms-own-SECRET_KEY"


def keys():
    return override_settings(
        TOKEN_ENCRYPTION_KEY=OUR_KEY,
        TOKEN_ENCRYPTION_KEYS="",
        TOKEN_ENCRYPTION_ACTIVE_KID="default",
        TOKEN_ENCRYPTION_DEVELOPMENT_KEY="",
    )


def two_factor_token(secret: str = "JBSWY3DPEHPK3PXP") -> str:
    """A TwoFactorService secret: Fernet under urlsafe_b64(sha256(SECRET_KEY))."""
    key = base64.urlsafe_b64encode(hashlib.sha256(PLATFORM_SECRET_KEY.encode()).digest())
    return Fernet(key).encrypt(secret.encode()).decode()


def token_manager_blob(data: dict) -> str:
    """A token-manager value: urlsafe base64 of a Fernet token of a JSON object."""
    token = Fernet(Fernet.generate_key()).encrypt(json.dumps(data, sort_keys=True).encode())
    return base64.urlsafe_b64encode(token).decode()


def user_credentials_blob(data: dict) -> str:
    """A UserCredentials value: standard base64 of a Fernet token of a JSON object."""
    token = Fernet(Fernet.generate_key()).encrypt(json.dumps(data).encode())
    return base64.b64encode(token).decode()


def hashed_codes(*codes: str) -> str:
    return json.dumps([hashlib.sha256(code.encode()).hexdigest() for code in codes])


def test_each_platform_format_is_recognised_without_keys():
    with keys():
        envelope = crypto.encrypt("tok")
    assert classify(envelope) == ENVELOPE
    assert classify(two_factor_token()) == FERNET
    blob = token_manager_blob({"access_token": "a" * 30, "platform": "twitter"})
    assert blob.startswith("Z0FBQUFB")
    assert classify(blob) == TOKEN_MANAGER
    assert classify(hashed_codes("7F33-BC28", "65B9-01F4")) == BACKUP_CODES
    assert classify(json.loads(hashed_codes("7F33-BC28"))) == BACKUP_CODES
    for value in ("JBSWY3DPEHPK3PXP", "DUMMY-IG-ACCESS-TOKEN-0001", '["7F33-BC28"]', "{}"):
        assert classify(value) == PLAINTEXT, value
    assert classify({"twitter": {"access_token": "x"}}) == PLAINTEXT
    assert classify(None) is None


def test_the_two_blobs_differ_only_in_the_outer_alphabet():
    # A blob whose base64 has neither -_ nor +/ is valid in both alphabets: the column names it.
    for _ in range(40):
        blob = user_credentials_blob({"api_key": "k", "api_secret": "s" * 20})
        if "+" in blob or "/" in blob:
            assert classify(blob) == USER_CREDENTIALS
            assert classify(blob.replace("+", "-").replace("/", "_")) == TOKEN_MANAGER
        else:
            assert classify(blob, expected={USER_CREDENTIALS}) == USER_CREDENTIALS
            assert classify(blob) == TOKEN_MANAGER
        assert formats.is_platform_format(blob)


@pytest.mark.parametrize(
    "value",
    [
        "gAAAAAB" + "A" * 30,  # the prefix but far too short
        two_factor_token()[:-4],  # truncated
        "gAAAAA" + "!" * 120,  # not base64
        base64.urlsafe_b64encode(b"\x81" + bytes(72)).decode(),  # wrong version byte
        base64.urlsafe_b64encode(b"\x80" + bytes(80)).decode(),  # not whole cipher blocks
        "Z0FBQUFB" + "x" * 20,  # the blob prefix, not a blob
        base64.urlsafe_b64encode(b"gAAAAA-not-a-token").decode(),
    ],
)
def test_look_alikes_that_do_not_decode_are_plaintext(value):
    assert classify(value) == PLAINTEXT


def test_opaque_values_never_show_themselves():
    value = two_factor_token()
    opaque = OpaqueSecret(value)
    assert opaque == value  # byte for byte
    assert value not in repr(opaque) and "Fernet token" in repr(opaque)
    assert formats.hint(value) == f"•••• (Fernet token, {len(value)} chars)"
    assert value not in formats.hint(value)


def test_encrypted_field_keeps_other_writers_formats_byte_for_byte():
    field = EncryptedTextField()
    blob = token_manager_blob({"access_token": "DUMMY-TOKEN-MANAGER-0001"})
    with keys():
        read = field.from_db_value(blob, None, None)
        assert isinstance(read, OpaqueSecret) and read == blob
        assert field.get_db_prep_value(read, connection=None) == blob
        assert field.get_db_prep_value(blob, connection=None) == blob  # even as a plain str
        fernet = two_factor_token()
        assert field.get_db_prep_value(fernet, connection=None) == fernet
        # Plaintext is still encrypted into the envelope, which decrypts to it.
        stored = field.get_db_prep_value("DUMMY-PLAIN", connection=None)
        assert crypto.is_envelope(stored) and crypto.decrypt(stored) == "DUMMY-PLAIN"


@pytest.mark.parametrize("field_class", [PlatformSecretCharField, PlatformSecretTextField])
def test_platform_secret_fields_store_exactly_what_the_platform_stores(field_class):
    field = field_class(null=True)
    assert isinstance(field, SecretFieldMixin)
    assert not getattr(field, "encrypted", False)  # rotate_keys and secrets/batches.py skip it
    assert field.get_lookup("exact") is None
    with keys():
        for value in (two_factor_token(), user_credentials_blob({"k": "v"}), "JBSWY3DPEHPK3PXP"):
            read = field.from_db_value(value, None, None)
            assert isinstance(read, OpaqueSecret) and read == value
            assert field.get_db_prep_value(read, connection=None) == value
            assert field.get_db_prep_value(value, connection=None) == value
            assert not crypto.is_envelope(field.get_db_prep_value(value, connection=None))
    assert field.from_db_value(None, None, None) is None


def test_every_platform_secret_column_names_its_reader_and_platform_change():
    names = {column.name for column in formats.COLUMNS}
    assert {
        "users.two_factor_secret",
        "admin_users.two_factor_secret",
        "social_platform_connections.access_token",
        "social_platform_connections.refresh_token",
        "user_settings.connected_accounts",
        "user_credentials.encrypted_credentials",
    } <= names
    encrypting = {c.name for c in formats.COLUMNS if c.upgrade_encrypts}
    assert not {n for n in encrypting if not n.startswith("social_")}
    two_factor = formats.column("users", "two_factor_secret")
    assert "TwoFactorService" in two_factor.plaintext_change
    assert (
        "store_user_tokens"
        in formats.column("user_settings", "connected_accounts").plaintext_change
    )
