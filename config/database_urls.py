"""Database settings from URLs, checked without crashing the settings.

A URL that cannot be used (malformed, not PostgreSQL, no database name) still yields a
PostgreSQL entry, so that Django starts; the entry carries ``URL_PROBLEM``, one paragraph that
every management command reports (exit 2) before it does anything (``database.errors``).
"""

import re
from urllib.parse import urlsplit

import environ

SCHEMES = ("postgres", "postgresql", "pgsql")
EXAMPLE = "postgres://USER:PASSWORD@HOST:5432/DATABASE"


# DATABASE_URL is the alias "default"; DATABASE_<ALIAS>_URL the alias "<alias>".
ALIAS_VARIABLE = re.compile(r"DATABASE_([A-Z0-9_]+)_URL")


def alias_of(variable: str) -> str | None:
    """The alias a ``DATABASE_<ALIAS>_URL`` variable adds; None for any other variable
    (``DATABASE_URL`` itself, which configures "default" or the embedded server)."""
    match = ALIAS_VARIABLE.fullmatch(variable)
    return match.group(1).lower() if match else None


def url_variable(alias: str) -> str:
    """The environment variable that configures ``alias``: ``alias_of`` backwards."""
    return "DATABASE_URL" if alias == "default" else f"DATABASE_{alias.upper()}_URL"


def database_config(variable: str, url: str) -> dict:
    """The Django DATABASES entry for ``url``, read from environment variable ``variable``."""
    problem = url_problem(url)
    if not problem:
        with_defaults = environ.Env.db_url_config(url)
        if with_defaults.get("NAME") or with_defaults.get("OPTIONS", {}).get("service"):
            return with_defaults
        problem = "names no database (nothing after the host, e.g. '/production')"
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "",
        "URL_PROBLEM": (
            f"{variable} ({masked(url)}) {problem}. Nothing was run. Set it to a PostgreSQL "
            f"URL such as {EXAMPLE} (unset DATABASE_URL uses the embedded server under "
            ".pgdata/)."
        ),
    }


def url_problem(url: str) -> str:
    scheme = url.partition("://")[0] if "://" in url else ""
    if not scheme:
        return "is not a URL (expected SCHEME://…)"
    if scheme.lower() not in SCHEMES:
        return f"uses '{scheme}://', but this project runs on PostgreSQL only (postgres://)"
    try:
        urlsplit(url).port  # noqa: B018 - raises on a port that is not a number
        environ.Env.db_url_config(url)
    except ValueError as error:
        return f"cannot be read: {error}"
    return ""


def masked(url: str) -> str:
    """``url`` with its password replaced by …."""
    return re.sub(r"^([a-z0-9+.-]+://[^:/@]*):[^@/]*@", r"\1:…@", url, flags=re.IGNORECASE)
