"""Turn database errors caused by the user's setup into one readable paragraph."""

import contextlib
from collections.abc import Iterator

import psycopg
from django.core.management.base import CommandError
from django.db import DatabaseError

CANNOT_RUN = 2

_HINTS = [
    ("password authentication failed", "The server rejected the credentials."),
    ("no password supplied", "The server asks for a password and none was given."),
    ("role", "The user named in the connection settings does not exist on the server."),
    ("does not exist", "The database named in the connection settings does not exist."),
    ("permission denied", "The connected user lacks a permission this command needs."),
    ("connection refused", "Nothing is listening at that address: is the server running?"),
    ("no such file or directory", "No server socket at that path: is the server running?"),
    ("could not translate host name", "The host name cannot be resolved."),
    ("timeout expired", "The server did not answer in time."),
]


def is_setup_error(error: BaseException) -> bool:
    """True when the error is about reaching or being allowed into the database."""
    cause = error.__cause__ if isinstance(error, DatabaseError) else error
    if isinstance(cause, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable):
        return False  # a statement or lock timeout: the database was reached and answered
    return isinstance(cause, psycopg.OperationalError | psycopg.errors.InsufficientPrivilege)


def describe(error: BaseException, settings: dict) -> str:
    """One paragraph: what failed, where, the likely reason, and what to check."""
    detail = " ".join(str(error).split())
    target = _describe_target(settings)
    lowered = detail.lower()
    hint = next((text for needle, text in _HINTS if needle in lowered), "")
    return (
        f"Cannot use database {target}: {detail}. {hint} "
        "Check DATABASE_URL (unset, the embedded server under .pgdata/ is used)."
    ).replace("  ", " ")


def _describe_target(settings: dict) -> str:
    host = settings.get("HOST") or "local socket"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    return f"'{settings.get('NAME')}' at {host}{port} as user '{settings.get('USER') or ''}'"


@contextlib.contextmanager
def reported_as_cannot_run(connection) -> Iterator[None]:
    """Turn an unreachable or forbidden database into a one-paragraph CommandError (exit 2)."""
    try:
        yield
    except DatabaseError as error:
        if is_setup_error(error):
            raise CommandError(
                describe(error, connection.settings_dict), returncode=CANNOT_RUN
            ) from None
        raise
