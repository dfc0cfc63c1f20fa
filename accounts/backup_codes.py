"""Two-factor backup codes, stored as the platform stores them: hashes only (**H**).

``users.two_factor_backup_codes`` holds a JSON list of the lowercase hex SHA-256 of each
code in its canonical form ``XXXX-XXXX`` (upper case), exactly as the running platform
writes and checks them (``backend/auth/two_factor.py``), so both sides accept the same codes.
"""

import hashlib
import hmac


def canonical(code: str) -> str:
    """What a user typed, in the form that was hashed: spaces and dashes out, ``XXXX-XXXX``."""
    plain = code.replace(" ", "").replace("-", "").upper()
    return f"{plain[:4]}-{plain[4:]}" if len(plain) == 8 else plain


def hash_code(code: str) -> str:
    return hashlib.sha256(canonical(code).encode("utf-8")).hexdigest()


def matching_hash(code: str, stored: list[str] | None) -> str | None:
    """The stored hash that ``code`` matches (to remove it once used), or None."""
    candidate = hash_code(code)
    for stored_hash in stored or []:
        if isinstance(stored_hash, str) and hmac.compare_digest(candidate, stored_hash):
            return stored_hash
    return None
