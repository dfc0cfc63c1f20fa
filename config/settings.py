"""Settings for the platform-schema project, driven by the environment (django-environ).

``DATABASE_URL`` selects the database; without it an embedded PostgreSQL server is started
on demand (see ``config.embedded``), and its database is the demo database ``make demo``
builds, with the public development encryption key allowed: that server only ever holds the
contract's fictional samples.
"""

import os
import sys
import warnings
from pathlib import Path

import environ

from config.database_urls import alias_of, database_config
from database import pooler

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY",
    default="insecure-development-key-set-DJANGO_SECRET_KEY-in-production-0123456789",
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver"])

# --- Deployment security (``check --deploy --fail-level WARNING`` passes with production env) ---
# The SECRET_KEY default above is for development only; ``check --deploy`` refuses it
# (database.secrets.deploy_checks). HTTPS is opt-in through the environment so that the test
# client and the live test server can speak plain HTTP; production sets DJANGO_HTTPS=1.
HTTPS = env.bool("DJANGO_HTTPS", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=HTTPS)
# Behind a TLS-terminating proxy (Render, a load balancer) that sets X-Forwarded-Proto.
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=8 * 60 * 60)
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    # ``database`` comes first so that its ``migrate`` overrides Django's own.
    "database",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: runserver leaves static files to WhiteNoise, as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "accounts",
    "organizations",
    "goals",
    "content",
    "social",
    "workflows",
    "research",
    "embeddings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# An explicit DATABASE_URL always wins; without it, the embedded server's demo database.
EMBEDDED_DATABASE = not env.str("DATABASE_URL", default="")


def _database_url() -> str:
    if not EMBEDDED_DATABASE:
        return env.str("DATABASE_URL")
    from config.embedded import embedded_database_url

    return embedded_database_url(BASE_DIR / ".pgdata")


DATABASES = {"default": database_config("DATABASE_URL", _database_url())}
# More connections from the environment, each named after its variable:
# DATABASE_REPLICA_URL is the alias "replica" (check_integrity --database replica).
DATABASES.update(
    {
        alias: database_config(name, value)
        for name, value in sorted(os.environ.items())
        if (alias := alias_of(name)) and value
    }
)
# ``?pooler=transaction`` in a URL (or DATABASE_POOLER=transaction for all) declares a
# transaction-mode pooler such as PgBouncer in front of the server (database.pooler).
for _database in DATABASES.values():
    _database["CONN_MAX_AGE"] = 0
    pooler.configure(_database)
# Lets concurrent test runs on one server use distinct test databases.
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}

# Legacy tables use serial integer keys; new tables use bigint keys (TARGET_SCHEMA.md §2).
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files (the admin's): WhiteNoise serves them from the Django process itself, under
# runserver and gunicorn alike. Production runs ``collectstatic`` once per release: the files
# are copied to STATIC_ROOT with hashed, compressed copies and a manifest, and served with
# far-future cache headers. Before that (a checkout, the tests) WhiteNoise serves them from
# the apps' own folders and pages link their plain names (config.storage).
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATIC_COLLECTED = (STATIC_ROOT / "staticfiles.json").is_file()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "config.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = not STATIC_COLLECTED
if not STATIC_ROOT.is_dir():
    # WhiteNoise warns about a STATIC_ROOT that collectstatic has not created yet.
    warnings.filterwarnings("ignore", message="No directory at: ")

SILENCED_SYSTEM_CHECKS = [
    # Django caps index names at 30 characters for Oracle's sake; PostgreSQL allows 63 and
    # production's legacy index names (up to 47 characters) must be kept as they are.
    "models.E034",
]

# Legacy-production contract shipped with the project (copied from the shared contract).
CONTRACT_DIR = BASE_DIR / "contract"
# The running platform's models (check_integrity's platform_models check); empty turns it off.
PLATFORM_CONTRACT = env.str(
    "PLATFORM_CONTRACT", default=str(CONTRACT_DIR / "application" / "platform_models.json")
)

# One ``migrate`` at a time per database (database.lease): a run that dies without releasing
# its lease blocks the next one for at most this long; a live run renews it every third of it.
MIGRATE_LEASE_SECONDS = env.str("MIGRATE_LEASE_SECONDS", default="60")
# Between two batches (backfills, conversions, encryption, rotate_keys, clear_expired_tokens)
# the batch engine waits while a streaming standby has more than this many bytes of WAL left
# to replay (16 MB, one WAL segment; 0 turns the wait off), and gives up with exit 10 after
# waiting this many seconds in one go (database.online.batches.throttling).
MIGRATE_MAX_REPLICA_LAG_BYTES = env.str("MIGRATE_MAX_REPLICA_LAG_BYTES", default=str(16 * 2**20))
MIGRATE_REPLICA_WAIT_SECONDS = env.str("MIGRATE_REPLICA_WAIT_SECONDS", default="300")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}

# --- Secrets at rest (TARGET_SCHEMA.md D12, D13; database.secrets.crypto) ---
# TOKEN_ENCRYPTION_KEY is the key of id "default", shared with the running platform.
# TOKEN_ENCRYPTION_KEYS adds more ("kid1:key1,kid2:key2"); TOKEN_ENCRYPTION_ACTIVE_KID selects
# the id new values are written with. Keys never derive from SECRET_KEY.
TOKEN_ENCRYPTION_KEY = env.str("TOKEN_ENCRYPTION_KEY", default="")
TOKEN_ENCRYPTION_KEYS = env.str("TOKEN_ENCRYPTION_KEYS", default="")
TOKEN_ENCRYPTION_ACTIVE_KID = env.str("TOKEN_ENCRYPTION_ACTIVE_KID", default="default")
# Without TOKEN_ENCRYPTION_KEY a fixed, public development key stands in for "default", but only
# when DEBUG is on, under the test runner, on the embedded server (its databases hold only the
# contract's fictional samples; any real database comes through DATABASE_URL), or when
# DJANGO_DEVELOPMENT_KEYS=1 says so; DJANGO_DEVELOPMENT_KEYS=0 refuses it everywhere. Otherwise
# every encryption or decryption fails loudly. ``check --deploy`` reports an Error whenever
# TOKEN_ENCRYPTION_KEY is missing. The test runner exports the flag so that the ``manage.py``
# subprocesses the tests start (migrate on scratch databases) use the same key.
TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]
if TESTING:
    os.environ.setdefault("DJANGO_DEVELOPMENT_KEYS", "1")
DEVELOPMENT_KEYS = env.bool("DJANGO_DEVELOPMENT_KEYS", default=DEBUG or EMBEDDED_DATABASE)
TOKEN_ENCRYPTION_DEVELOPMENT_KEY = (
    # Fernet key published here on purpose: it protects nothing.
    "cGxhdGZvcm0tZGV2LWtleS1ub3QtZm9yLXByb2QhISE=" if DEVELOPMENT_KEYS else ""
)
# How long the running platform honours its emailed tokens (backend/api/auth_open.py):
# after that ``clear_expired_tokens`` removes them and the integrity report lists leftovers.
PASSWORD_RESET_TOKEN_HOURS = env.int("PASSWORD_RESET_TOKEN_HOURS", default=2)
EMAIL_VERIFICATION_TOKEN_HOURS = env.int("EMAIL_VERIFICATION_TOKEN_HOURS", default=24)
