"""Tokens stored only as a hash (the **H** columns of TARGET_SCHEMA.md §2, R-16).

The hash is the lowercase hex SHA-256 of the token's UTF-8 bytes, with no pepper, because

- every token hashed here is a random value the platform generates itself
  (``secrets.token_urlsafe(32)``: 256 bits). Nobody can guess or enumerate such a value, so a
  slow or keyed hash adds nothing against a leaked table; a pepper only helps low-entropy
  inputs such as passwords, which are hashed with bcrypt elsewhere;
- the running platform must find rows by the hash of what a user presents. A plain SHA-256 is
  one line in any language and needs no second shared secret that would have to be
  distributed, kept in step and rotated (rotating a pepper would orphan every stored hash);
- lookups stay exact-match on an index (``WHERE token_hash = $1``).

Compare hashes with ``hmac.compare_digest`` when checking one in Python (``matches``).
"""

import hashlib
import hmac
import re

from django.db.models import Model, QuerySet

HASH_LENGTH = 64
_HASH_RE = re.compile(r"[0-9a-f]{64}")


def hash_token(token: str) -> str:
    """The stored form of ``token``: its SHA-256, as 64 lowercase hex digits."""
    if not isinstance(token, str) or not token:
        raise ValueError("a token to hash must be a non-empty string")
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_token_hash(value: object) -> bool:
    """True when ``value`` has the shape of a stored hash (not proof that it is one)."""
    return isinstance(value, str) and _HASH_RE.fullmatch(value) is not None


def matches(token: str, stored_hash: str | None) -> bool:
    """Constant-time check of a presented ``token`` against a stored hash."""
    if not stored_hash or not token:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)


def lookup(queryset: QuerySet | type[Model], field_name: str, token: str) -> QuerySet:
    """Rows whose hashed ``field_name`` matches ``token``: ``WHERE field = sha256(token)``."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    return queryset.filter(**{field_name: hash_token(token)})


def find_by_token(queryset: QuerySet | type[Model], field_name: str, token: str):
    """The single row whose hashed ``field_name`` matches ``token``, or None."""
    return lookup(queryset, field_name, token).first()
