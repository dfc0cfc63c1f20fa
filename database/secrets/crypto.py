"""Secrets at rest in the running platform's own envelope format (TARGET_SCHEMA.md D12).

A stored secret is the JSON text ``{"enc_version":1,"enc_kid":"<key id>","ciphertext":"…"}``.
It is byte for byte what the platform writes (``backend/core/encryption.py`` of its code):

- compact separators, keys in that order;
- ``ciphertext`` is the Fernet token *base64-encoded once more* (standard alphabet), because
  that is what the platform stores. Reading also accepts a bare Fernet token there.
- the key of id ``default`` is ``TOKEN_ENCRYPTION_KEY``; a value that is a valid Fernet key is
  used as is, anything else is stretched with PBKDF2-SHA256 and the platform's fixed salt, so
  both sides derive the same key from the same setting.

Keys come from settings only (``config/settings.py``), never from ``SECRET_KEY``:
``TOKEN_ENCRYPTION_KEY`` (id ``default``), ``TOKEN_ENCRYPTION_KEYS`` (``"kid1:key1,kid2:key2"``)
and ``TOKEN_ENCRYPTION_ACTIVE_KID`` (the id new values are written with). A value is never
encrypted twice; a missing key, an unknown key id or a wrong key raises an ``EncryptionError``
subclass and never hands back ciphertext as if it were the value.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings

ENVELOPE_VERSION = 1
DEFAULT_KID = "default"
ENVELOPE_KEYS = ("enc_version", "enc_kid", "ciphertext")

# The platform's key stretching for a TOKEN_ENCRYPTION_KEY that is not a Fernet key.
_PLATFORM_KDF_SALT = b"stable_salt_for_consistency"
_PLATFORM_KDF_ITERATIONS = 100_000


class EncryptionError(Exception):
    """Base class: a secret could not be encrypted or decrypted."""


class KeyNotConfigured(EncryptionError):
    """No key is configured for the key id a value needs (or for the active key id)."""


class DecryptionFailed(EncryptionError):
    """The key for the envelope's id did not open it: wrong key, or tampered ciphertext."""


class KeyMismatch(EncryptionError):
    """The configured key for a key id is not the key the database's keyring recorded for it
    (``database.secrets.keyring``): writing with it would mix two keys under one id."""


class InvalidEnvelope(EncryptionError):
    """A value that claims to be an envelope is malformed or of an unknown version."""


@dataclass(frozen=True)
class Envelope:
    version: int
    kid: str
    ciphertext: str

    def as_dict(self) -> dict[str, Any]:
        return {"enc_version": self.version, "enc_kid": self.kid, "ciphertext": self.ciphertext}

    def as_json(self) -> str:
        return json.dumps(self.as_dict(), separators=(",", ":"))


# --------------------------------------------------------------------------- envelope parsing


def parse_envelope(value: Any) -> Envelope | None:
    """The envelope in ``value`` (JSON text or an already decoded dict), or None if it is none.

    A dict (or JSON object text) carrying ``enc_version`` is taken to be an envelope and must
    be a complete, known one: anything else raises ``InvalidEnvelope`` rather than passing as
    plaintext.
    """
    if isinstance(value, Envelope):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not (text.startswith("{") and '"enc_version"' in text):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return None
    if not isinstance(value, Mapping) or "enc_version" not in value:
        return None
    missing = [key for key in ENVELOPE_KEYS if key not in value]
    if missing:
        raise InvalidEnvelope(f"envelope without {', '.join(missing)}")
    version, kid, ciphertext = (value[key] for key in ENVELOPE_KEYS)
    if version != ENVELOPE_VERSION or isinstance(version, bool):
        raise InvalidEnvelope(f"unsupported enc_version {version!r} (this code reads 1)")
    if not isinstance(kid, str) or not kid or not isinstance(ciphertext, str) or not ciphertext:
        raise InvalidEnvelope("enc_kid and ciphertext must be non-empty strings")
    return Envelope(version, kid, ciphertext)


def is_envelope(value: Any) -> bool:
    """True when ``value`` is a well-formed envelope (text or dict)."""
    try:
        return parse_envelope(value) is not None
    except InvalidEnvelope:
        return False


def envelope_kid(value: Any) -> str | None:
    """The key id of an envelope, without decrypting it; None for anything else."""
    try:
        envelope = parse_envelope(value)
    except InvalidEnvelope:
        return None
    return envelope.kid if envelope else None


# --------------------------------------------------------------------------------- keys


def generate_key() -> str:
    """A new random key, in the form ``TOKEN_ENCRYPTION_KEY`` expects."""
    return Fernet.generate_key().decode("ascii")


@functools.lru_cache(maxsize=32)
def _fernet_for(material: str) -> Fernet:
    try:
        return Fernet(material.encode("utf-8"))
    except (ValueError, binascii.Error):
        pass
    # Not a Fernet key: derive one exactly as the platform does.
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=32,
        salt=_PLATFORM_KDF_SALT,
        iterations=_PLATFORM_KDF_ITERATIONS,
    )
    return Fernet(base64.urlsafe_b64encode(kdf.derive(material.encode("utf-8"))))


def parse_key_list(text: str) -> dict[str, str]:
    """``"kid1:key1,kid2:key2"`` → ``{"kid1": "key1", "kid2": "key2"}``; raises on bad items."""
    keys: dict[str, str] = {}
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        kid, separator, material = item.partition(":")
        kid, material = kid.strip(), material.strip()
        if not separator or not kid or not material:
            raise KeyNotConfigured(
                "TOKEN_ENCRYPTION_KEYS must read 'kid1:key1,kid2:key2' "
                f"(an item without a key id or key: {kid or '?'}:…)"
            )
        if kid in keys:
            raise KeyNotConfigured(f"TOKEN_ENCRYPTION_KEYS names key id {kid!r} twice")
        keys[kid] = material
    return keys


@dataclass(frozen=True)
class Keyring:
    """Key material by key id, and the id that new values are written with."""

    materials: Mapping[str, str]
    active_kid: str
    development: bool = False

    @property
    def kids(self) -> list[str]:
        return sorted(self.materials)

    def fernet(self, kid: str) -> Fernet:
        material = self.materials.get(kid)
        if not material:
            configured = ", ".join(self.kids) or "none"
            raise KeyNotConfigured(
                f"no encryption key for key id {kid!r} (configured: {configured}). "
                "Set TOKEN_ENCRYPTION_KEY (id 'default') or add it to TOKEN_ENCRYPTION_KEYS."
            )
        return _fernet_for(material)


def keyring() -> Keyring:
    """The keyring described by the current settings (cheap; derived keys are cached)."""
    return _keyring(
        getattr(settings, "TOKEN_ENCRYPTION_KEY", ""),
        _as_key_text(getattr(settings, "TOKEN_ENCRYPTION_KEYS", "")),
        getattr(settings, "TOKEN_ENCRYPTION_ACTIVE_KID", DEFAULT_KID) or DEFAULT_KID,
        getattr(settings, "TOKEN_ENCRYPTION_DEVELOPMENT_KEY", ""),
    )


def _as_key_text(value: str | Mapping[str, str]) -> str:
    if isinstance(value, Mapping):
        return ",".join(f"{kid}:{material}" for kid, material in value.items())
    return value or ""


@functools.lru_cache(maxsize=8)
def _keyring(default_key: str, key_list: str, active_kid: str, development_key: str) -> Keyring:
    materials = parse_key_list(key_list)
    development = False
    if default_key:
        if materials.get(DEFAULT_KID, default_key) != default_key:
            raise KeyNotConfigured(
                "TOKEN_ENCRYPTION_KEY and the 'default' entry of TOKEN_ENCRYPTION_KEYS differ"
            )
        materials[DEFAULT_KID] = default_key
    elif DEFAULT_KID not in materials and development_key:
        materials[DEFAULT_KID] = development_key
        development = True
    return Keyring(materials, active_kid, development)


# ------------------------------------------------------------------------ encrypt / decrypt


def fingerprint(kid: str) -> str:
    """A digest of the key configured for ``kid``: tells keys apart without revealing them."""
    material = keyring().materials.get(kid, "")
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def encrypt(plaintext: str, *, kid: str | None = None) -> str:
    """Encrypt ``plaintext`` under ``kid`` (the active key id by default); envelope JSON text."""
    return _seal(plaintext, kid).as_json()


def encrypt_to_dict(plaintext: str, *, kid: str | None = None) -> dict[str, Any]:
    """Like ``encrypt``, as the envelope object (for json/jsonb columns)."""
    return _seal(plaintext, kid).as_dict()


def _seal(plaintext: str, kid: str | None) -> Envelope:
    if not isinstance(plaintext, str):
        raise TypeError(f"only text is encrypted, not {type(plaintext).__name__}")
    ring = keyring()
    kid = kid or ring.active_kid
    token = ring.fernet(kid).encrypt(plaintext.encode("utf-8"))
    return Envelope(ENVELOPE_VERSION, kid, base64.b64encode(token).decode("ascii"))


def decrypt(value: str | Mapping[str, Any] | Envelope) -> str:
    """The plaintext inside an envelope; raises unless it is an envelope that opens.

    The empty string is the platform's stored form of an empty secret and decrypts to "".
    """
    if value == "":
        return ""
    envelope = parse_envelope(value)
    if envelope is None:
        raise InvalidEnvelope("not an encrypted envelope")
    fernet = keyring().fernet(envelope.kid)
    try:
        return fernet.decrypt(_fernet_token(envelope.ciphertext)).decode("utf-8")
    except InvalidToken:
        raise DecryptionFailed(
            f"the key configured for key id {envelope.kid!r} does not decrypt this value "
            "(wrong key, or the ciphertext was altered)"
        ) from None


def _fernet_token(ciphertext: str) -> bytes:
    # Fernet tokens start with version byte 0x80, i.e. "gAAAAA" in base64url.
    if ciphertext.startswith("gAAAAA"):
        return ciphertext.encode("ascii")
    try:
        return base64.b64decode(ciphertext.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise InvalidEnvelope("ciphertext is neither base64 nor a Fernet token") from None


def ensure_encrypted(value: str, *, kid: str | None = None) -> str:
    """``value`` encrypted, unless it already is an envelope (then it is returned unchanged)."""
    if parse_envelope(value) is not None:
        return value
    return encrypt(value, kid=kid)


def reencrypt(value: str | Mapping[str, Any], *, kid: str | None = None) -> str:
    """The envelope's plaintext under ``kid`` (the active id); unchanged if already under it."""
    envelope = parse_envelope(value)
    if envelope is None:
        raise InvalidEnvelope("not an encrypted envelope")
    target = kid or keyring().active_kid
    if envelope.kid == target:
        return envelope.as_json()
    return encrypt(decrypt(envelope), kid=target)


def masked(value: Any, *, kind: str = "encrypted") -> str:
    """What a person may see of a secret: never the value, at most its key id."""
    if value is None:
        return "—"
    if value == "":
        return "(empty)"
    if kind == "hash":
        return "•••• (hash)"
    kid = envelope_kid(value)
    if kid is not None:
        return f"•••• (encrypted, kid {kid})"
    return "•••• (not yet encrypted)"
