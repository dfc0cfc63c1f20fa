"""Every format a secret of the running platform has at rest, recognised without keys (D17).

The platform (TailoredAgents/socialmedia2 at 76ca0fe, ``contract/application/PLATFORM.md``)
writes secrets in several formats, each column with its own writer and reader. A value in any
of them is readable by the platform, and wrapping it again makes it unreadable, so the upgrade
and the Django side never rewrite one: this module is the one place that tells them apart.

- ``envelope``: the D12 JSON text ``{"enc_version":1,"enc_kid":…,"ciphertext":…}``
  (``encryption.py`` ``encrypt_token``, and this project);
- ``token-manager blob``: urlsafe base64 of a Fernet token of a JSON object, ``Z0FBQUFB…``
  (``token_encryption.py``);
- ``user-credentials blob``: standard base64 of a Fernet token of a JSON object, ``Z0FBQUFB…``
  (``UserCredentials.encrypt_credentials``);
- ``Fernet token``: a bare Fernet token, ``gAAAAA…`` (``TwoFactorService.encrypt_secret``);
- ``hashed backup codes``: a JSON list of ``sha256(code).hexdigest()`` (``TwoFactorService``);
- ``plaintext``: anything else (a raw token, a base32 TOTP secret, a plain JSON object).

Recognition is structural: a Fernet token is urlsafe base64 (padded) of version byte 0x80, an
8-byte timestamp, a 16-byte IV, whole 16-byte cipher blocks (at least one) and a 32-byte HMAC.
The two blobs are base64 of that token's *text*, which is why both start ``Z0FBQUFB`` (base64
of ``gAAAAA``); they differ only in the outer alphabet. A blob with ``-`` or ``_`` is
urlsafe (token manager), one with ``+`` or ``/`` standard (user credentials); one with neither
is valid in both and is named after what its column expects (``classify(…, expected=…)``).
The envelope's own ``ciphertext`` is the same standard base64 as a user-credentials blob.

``COLUMNS`` says, per secret column of the platform, which formats its reader reads, whether
the upgrade encrypts plaintext there, and which platform change a plaintext value needs
(``check_integrity``'s ``secrets`` check reports them). ``sql_format`` is the same
recognition in SQL (by shape: prefix, alphabet, length), for the admin's masked hints and the
integrity scan; the check confirms a sample of each shape with ``classify``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from database.secrets import crypto

ENVELOPE = "envelope"
TOKEN_MANAGER = "token-manager blob"
USER_CREDENTIALS = "user-credentials blob"
FERNET = "Fernet token"
BACKUP_CODES = "hashed backup codes"
PLAINTEXT = "plaintext"
EMPTY = "empty"

# Formats a value is already stored in by the platform (or this project): never rewritten.
PLATFORM_FORMATS = frozenset({ENVELOPE, TOKEN_MANAGER, USER_CREDENTIALS, FERNET, BACKUP_CODES})

_FERNET_TEXT = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_URLSAFE_TEXT = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_STANDARD_TEXT = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_FERNET_OVERHEAD = 1 + 8 + 16 + 32  # version, timestamp, IV, HMAC


def is_fernet_token(value: str | bytes) -> bool:
    """True when ``value`` is structurally a Fernet token (no key needed)."""
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(value, str) or len(value) % 4 or not _FERNET_TEXT.fullmatch(value):
        return False
    try:
        raw = base64.urlsafe_b64decode(value)
    except (binascii.Error, ValueError):
        return False
    blocks = len(raw) - _FERNET_OVERHEAD
    return raw[:1] == b"\x80" and blocks >= 16 and blocks % 16 == 0


def _decodes_to_fernet(value: str, alphabet: re.Pattern, decode) -> bool:
    if len(value) % 4 or not alphabet.fullmatch(value):
        return False
    try:
        return is_fernet_token(decode(value))
    except (binascii.Error, ValueError):
        return False


def is_token_manager_blob(value: str) -> bool:
    """urlsafe base64 of a Fernet token's text (``token_encryption.py``)."""
    return _decodes_to_fernet(value, _URLSAFE_TEXT, base64.urlsafe_b64decode)


def is_user_credentials_blob(value: str) -> bool:
    """Standard base64 of a Fernet token's text (``UserCredentials.encrypt_credentials``)."""
    return _decodes_to_fernet(value, _STANDARD_TEXT, base64.b64decode)


def is_hashed_backup_codes(value: Any) -> bool:
    """A JSON list (text or decoded) whose entries are all lowercase SHA-256 hex digests."""
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            return False
        try:
            value = json.loads(text)
        except ValueError:
            return False
    return isinstance(value, list) and all(
        isinstance(entry, str) and _SHA256_HEX.fullmatch(entry) for entry in value
    )


def classify(value: Any, *, expected: Iterable[str] = ()) -> str | None:
    """The format of a stored value; None for NULL.

    ``expected`` (the column's formats) only names a blob that is valid base64 in both
    alphabets; it never changes whether a value counts as a platform format.
    """
    if value is None:
        return None
    if isinstance(value, Mapping):
        try:
            return ENVELOPE if crypto.parse_envelope(value) is not None else PLAINTEXT
        except crypto.InvalidEnvelope:
            return PLAINTEXT
    if isinstance(value, list):
        return BACKUP_CODES if is_hashed_backup_codes(value) else PLAINTEXT
    if not isinstance(value, str):
        return PLAINTEXT
    if value == "":
        return EMPTY
    if crypto.is_envelope(value):
        return ENVELOPE
    if is_fernet_token(value):
        return FERNET
    urlsafe, standard = is_token_manager_blob(value), is_user_credentials_blob(value)
    if urlsafe and standard:
        return USER_CREDENTIALS if USER_CREDENTIALS in set(expected) else TOKEN_MANAGER
    if urlsafe:
        return TOKEN_MANAGER
    if standard:
        return USER_CREDENTIALS
    if is_hashed_backup_codes(value):
        return BACKUP_CODES
    return PLAINTEXT


def is_platform_format(value: Any) -> bool:
    """True when ``value`` is already in a format the platform reads: never rewrite it."""
    return classify(value) in PLATFORM_FORMATS


class OpaqueSecret(str):
    """A stored secret in a platform format this project does not open, kept verbatim.

    It is the stored text itself (so saving it writes it back byte for byte), but its
    ``repr`` names only the format and length, never the value.
    """

    @property
    def format(self) -> str:
        return classify(str(self)) or PLAINTEXT

    def __repr__(self) -> str:
        return f"<OpaqueSecret: {self.format}, {len(self)} chars>"


def hint(value: Any) -> str:
    """What a person may see of a stored secret: its format and length, never the value."""
    fmt = classify(value)
    if fmt is None:
        return "—"
    if fmt == EMPTY:
        return "(empty)"
    if fmt == ENVELOPE:
        return f"•••• (encrypted, kid {crypto.envelope_kid(value)})"
    size = len(value) if isinstance(value, str) else len(json.dumps(value))
    return f"•••• ({fmt}, {size} chars)"


# ------------------------------------------------------------------------------ per column


@dataclass(frozen=True)
class SecretColumn:
    """A secret column of the platform: who reads it, in which formats, and what plaintext
    there needs from the platform."""

    table: str
    column: str
    reader: str
    reads: frozenset[str]
    upgrade_encrypts: bool  # the upgrade turns plaintext into envelopes here
    plaintext_change: str  # the platform change a plaintext value needs

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"


_SOCIAL_TOKEN = (
    "none on the platform: the upgrade encrypts them into the envelope, and its writers (the "
    "token manager, encrypt_token) never store plaintext; a value left means the encrypting "
    "migration stopped (run migrate again) or another writer stores raw tokens"
)
COLUMNS: tuple[SecretColumn, ...] = (
    SecretColumn(
        "users",
        "two_factor_secret",
        "backend/auth/two_factor.py TwoFactorService.decrypt_secret (login)",
        frozenset({FERNET}),
        False,
        "TwoFactorService must encrypt the secret when 2FA is enabled (encrypt_secret); a "
        "plaintext secret fails decrypt_secret at login, and only the platform holds the key",
    ),
    SecretColumn(
        "users",
        "two_factor_backup_codes",
        "TwoFactorService.verify_backup_code",
        frozenset({BACKUP_CODES}),
        False,
        "TwoFactorService must store only hash_backup_code() digests (migration "
        "accounts.0014 hashes the codes production holds)",
    ),
    SecretColumn(
        "admin_users",
        "two_factor_secret",
        "backend/auth/admin_auth.py verify_2fa_token (reads the base32 secret raw)",
        frozenset({PLAINTEXT}),
        False,
        "admin_auth must encrypt admin 2FA secrets and decrypt them in verify_2fa_token; until "
        "it does they stay plaintext, since encrypting them would lock every admin out",
    ),
    SecretColumn(
        "social_platform_connections",
        "access_token",
        "token manager get_access_token; decrypt_token elsewhere",
        frozenset({ENVELOPE, TOKEN_MANAGER}),
        True,
        _SOCIAL_TOKEN,
    ),
    SecretColumn(
        "social_platform_connections",
        "refresh_token",
        "token manager; decrypt_token elsewhere",
        frozenset({ENVELOPE, TOKEN_MANAGER}),
        True,
        _SOCIAL_TOKEN,
    ),
    *(
        SecretColumn(
            "social_connections",
            column,
            "decrypt_token (backend/api/partner_oauth.py)",
            frozenset({ENVELOPE}),
            True,
            "partner_oauth must store encrypt_token() values only",
        )
        for column in ("access_token", "refresh_token", "page_access_token", "webhook_secret")
    ),
    SecretColumn(
        "user_settings",
        "connected_accounts",
        "social_oauth.get_valid_token, instagram_service, api/social_auth.py (a plain dict)",
        frozenset({PLAINTEXT}),
        False,
        "social_oauth.store_user_tokens must encrypt the tokens and every reader decrypt them "
        "(D6 waits for the platform: the column stays a plain JSON object until then)",
    ),
    SecretColumn(
        "user_credentials",
        "encrypted_credentials",
        "UserCredentials.decrypt_credentials (returns {} when it cannot)",
        frozenset({USER_CREDENTIALS}),
        False,
        "every writer must go through UserCredentials.set_credentials (encrypt_credentials); "
        "decrypt_credentials reads plaintext as {}",
    ),
)
# Looked up by their raw value, so they stay raw until the platform hashes them (D18).
_LOOKED_UP_RAW = (
    ("organization_invitations", "token", "the invitation acceptance endpoint"),
    ("user_management", "api_key", "API-key authentication"),
    ("user_management", "api_secret", "API-key authentication"),
    ("api_key_revocations", "api_key", "the revocation check"),
    ("admin_sessions", "session_token", "backend/auth/admin_auth.py"),
    ("admin_sessions", "refresh_token", "backend/auth/admin_auth.py"),
)
COLUMNS += tuple(
    SecretColumn(
        table,
        column,
        f"{reader}, which finds the row by the raw value",
        frozenset({PLAINTEXT}),
        False,
        "store sha256(value) and look rows up by the hash; the project then hashes the rows "
        "in place (D18)",
    )
    for table, column, reader in _LOOKED_UP_RAW
)
BY_COLUMN = {(column.table, column.column): column for column in COLUMNS}


def column(table: str, column_name: str) -> SecretColumn | None:
    return BY_COLUMN.get((table, column_name))


# ------------------------------------------------------------------------------------- SQL

# The shapes, in SQL (PostgreSQL 15 has no try-decode): an envelope, a bare Fernet token
# (gAAAAA + urlsafe base64, at least 73 bytes), base64 of a Fernet token's text (Z0FBQUFB…,
# named by alphabet), a JSON list of SHA-256 hex digests. ``classify`` decides for certain.
ENVELOPE_TEXT = (
    r'^\s*\{\s*"enc_version"\s*:\s*1\s*,\s*"enc_kid"\s*:\s*"([^"\\]+)"\s*,'
    r'\s*"ciphertext"\s*:\s*"[A-Za-z0-9+/=_-]+"\s*\}\s*$'
)
_SQL_SHAPES = (
    (FERNET, r"^gAAAAA[A-Za-z0-9_-]{90,}={0,2}$"),
    (TOKEN_MANAGER, r"^Z0FBQUFB[A-Za-z0-9_-]*[_-][A-Za-z0-9_-]*={0,2}$"),
    (USER_CREDENTIALS, r"^Z0FBQUFB[A-Za-z0-9+/]*[+/][A-Za-z0-9+/]*={0,2}$"),
    ("base64 blob", r"^Z0FBQUFB[A-Za-z0-9]{124,}={0,2}$"),
    (BACKUP_CODES, r'^\[\s*("[0-9a-f]{64}"\s*(,\s*"[0-9a-f]{64}"\s*)*)?\]$'),
)


def sql_format(expression: str, *, is_json: bool = False) -> str:
    """An SQL expression naming the shape of ``expression``'s value: NULL for NULL, ``empty``,
    ``envelope:<kid>``, a format name of this module, ``base64 blob`` (either blob), or
    ``plaintext``. ``expression`` is trusted SQL (a quoted column)."""
    text = f"({expression})::text"
    if is_json:
        envelope = (
            f"CASE WHEN pg_catalog.jsonb_typeof(({expression})::jsonb) = 'object' "
            f"AND ({expression})::jsonb ->> 'enc_version' = '1' "
            f"AND coalesce(({expression})::jsonb ->> 'ciphertext', '') <> '' "
            f"THEN '{ENVELOPE}:' || coalesce(({expression})::jsonb ->> 'enc_kid', '') END"
        )
        value = f"coalesce(({expression})::jsonb #>> '{{}}', {text})"
        # an envelope stored as a JSON string
        envelope = (
            f"coalesce({envelope}, "
            f"'{ENVELOPE}:' || pg_catalog.substring({value}, '{ENVELOPE_TEXT}'))"
        )
    else:
        envelope = f"'{ENVELOPE}:' || pg_catalog.substring({text}, '{ENVELOPE_TEXT}')"
        value = text
    shapes = " ".join(f"WHEN {value} ~ '{pattern}' THEN '{name}'" for name, pattern in _SQL_SHAPES)
    return (
        f"CASE WHEN ({expression}) IS NULL THEN NULL "
        f"WHEN {text} IN ('', '\"\"') THEN '{EMPTY}' "
        f"ELSE coalesce({envelope}, CASE {shapes} ELSE '{PLAINTEXT}' END) END"
    )


def state_kid(state: str) -> str | None:
    """The key id a ``sql_format`` result names for an envelope; None for any other format."""
    prefix = f"{ENVELOPE}:"
    return state.removeprefix(prefix) if state.startswith(prefix) else None


def sql_ciphertext(expression: str) -> str:
    """An SQL expression for the ciphertext of the envelope whose text is ``expression``
    (NULL for anything else). ``expression`` is trusted SQL (a quoted column)."""
    return (
        f"pg_catalog.substring(({expression})::text, "
        '\'"ciphertext"\\s*:\\s*"([A-Za-z0-9+/=_-]+)"\')'
    )


def name_sql_format(state: str, expected: Iterable[str] = ()) -> str:
    """The format name for a ``sql_format`` result (resolving ``base64 blob`` by column)."""
    if state_kid(state) is not None:
        return ENVELOPE
    if state == "base64 blob":
        return USER_CREDENTIALS if USER_CREDENTIALS in set(expected) else TOKEN_MANAGER
    return state
