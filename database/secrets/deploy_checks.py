"""System checks that ``manage.py check --deploy`` adds for this project's secrets.

Django's own deployment checks cannot know that ``SECRET_KEY`` still holds the development
default, or that the token encryption key is missing; both are Errors, so a deployment with
them fails ``check --deploy`` at any ``--fail-level``.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register

from database.secrets import crypto

DEVELOPMENT_SECRET_KEY_PREFIX = "insecure-development-key"


@register(Tags.security, deploy=True)
def check_secret_key_is_set(app_configs, **kwargs):
    if str(settings.SECRET_KEY).startswith(DEVELOPMENT_SECRET_KEY_PREFIX):
        return [
            Error(
                "SECRET_KEY is the development default.",
                hint="Set DJANGO_SECRET_KEY to a long random value in production.",
                id="database.E101",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_token_encryption_keys(app_configs, **kwargs):
    errors = []
    if not getattr(settings, "TOKEN_ENCRYPTION_KEY", ""):
        errors.append(
            Error(
                "TOKEN_ENCRYPTION_KEY is not set: encrypted secrets cannot be read or written "
                "(a development key would stand in only with DEBUG or DJANGO_DEVELOPMENT_KEYS).",
                hint="Set TOKEN_ENCRYPTION_KEY to the running platform's key (id 'default').",
                id="database.E102",
            )
        )
    try:
        ring = crypto.keyring()
        for kid in ring.kids:
            ring.fernet(kid)
        if errors and ring.active_kid == crypto.DEFAULT_KID:
            return errors  # E102 already says that the active key is missing
        ring.fernet(ring.active_kid)
    except crypto.EncryptionError as error:
        errors.append(
            Error(
                f"Token encryption keys are misconfigured: {error}",
                hint="Check TOKEN_ENCRYPTION_KEYS and TOKEN_ENCRYPTION_ACTIVE_KID.",
                id="database.E103",
            )
        )
    else:
        if ring.development:
            errors.append(
                Error(
                    "The public development encryption key is in use.",
                    hint="Unset DJANGO_DEVELOPMENT_KEYS and DJANGO_DEBUG in production.",
                    id="database.E104",
                )
            )
    return errors
