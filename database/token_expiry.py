"""Which emailed tokens the platform no longer honours (TARGET_SCHEMA.md D13).

One condition for the command that clears them (``clear_expired_tokens``) and the check that
reports them (``check_integrity``'s ``expired_tokens``), so that the two always agree.
"""

import datetime

from django.db.models import Q

# (token field, its sent-at field, the setting that gives its lifetime in hours), on User.
TOKENS = (
    ("password_reset_token", "password_reset_sent_at", "PASSWORD_RESET_TOKEN_HOURS"),
    ("email_verification_token", "email_verification_sent_at", "EMAIL_VERIFICATION_TOKEN_HOURS"),
)


def expired(token_field: str, sent_field: str, cutoff: datetime.datetime) -> Q:
    """A token sent before ``cutoff``, or never (a NULL sent-at counts as expired)."""
    return Q(**{f"{token_field}__isnull": False}) & (
        Q(**{f"{sent_field}__isnull": True}) | Q(**{f"{sent_field}__lt": cutoff})
    )
