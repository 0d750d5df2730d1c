"""CivTrack settings: every value comes from the environment (see .env.example).

Defaults are for development and safe: DEBUG is off unless DJANGO_DEBUG=1, and the
development secret key is refused when DEBUG is off.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "django-insecure-civtrack-development-key-never-use-in-production"  # noqa: S105


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name} must be 1/true/yes/on or 0/false/no/off, not {value!r}."
    )


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}."
        ) from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
        "(the development key is public)."
    )
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin with sign-in lockout and two-factor codes (civtrack/accounts.py).
    "civtrack.apps.CivTrackAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "pghistory",
    "pghistory.admin",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "incidents",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # A NUL byte in the path is a 400, never a 500 (civtrack/middleware.py).
    "civtrack.middleware.RefuseNulInPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks users verified by a two-factor device (request.user.is_verified()).
    "django_otp.middleware.OTPMiddleware",
    # Content-Security-Policy: scripts only from this site, never inline.
    "csp.middleware.CSPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Attaches the request's user and URL to every audit row written in the request.
    "pghistory.middleware.HistoryMiddleware",
]

ROOT_URLCONF = "civtrack.urls"
WSGI_APPLICATION = "civtrack.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # The public site: synthetic-data banner, language switch, site name.
                "incidents.context_processors.public_site",
            ],
        },
    },
]

# Database: DATABASE_URL, or the embedded PostgreSQL that `make` starts (civtrack/devdb.py).
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured(
        "Set DATABASE_URL (postgres://user:password@host:port/name), or run through "
        "`make` / `python -m civtrack.devdb exec -- …`, which start the embedded "
        "PostgreSQL and set it."
    )
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0)
    )
}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured(
        "DATABASE_URL must point at PostgreSQL: CivTrack needs it."
    )
DATABASES["default"]["TEST"] = {
    # Lets several test runs share one server (e.g. two checkouts) without colliding.
    "NAME": "test_"
    + DATABASES["default"]["NAME"]
    + os.environ.get("CIVTRACK_TEST_DB_SUFFIX", ""),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = ["civtrack.accounts.ThrottledModelBackend"]
CIVTRACK_LOGIN_MAX_FAILURES = env_int("CIVTRACK_LOGIN_MAX_FAILURES", 5)
CIVTRACK_LOGIN_LOCKOUT_MINUTES = env_int("CIVTRACK_LOGIN_LOCKOUT_MINUTES", 15)
# Two-factor authentication (TOTP, django-otp) mandatory for the admin and for API
# sessions (api/authentication.py); API tokens are issued in the admin.
CIVTRACK_REQUIRE_2FA = env_bool("CIVTRACK_REQUIRE_2FA", False)
OTP_TOTP_ISSUER = "CivTrack"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("CIVTRACK_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end packages installed by `npm ci` (package-lock.json), served by whitenoise
    # under /static/vendor/… so that no page ever asks a CDN for anything.
    ("vendor/leaflet", BASE_DIR / "node_modules" / "leaflet" / "dist"),
    (
        "vendor/noto-sans-arabic",
        BASE_DIR / "node_modules" / "@fontsource" / "noto-sans-arabic",
    ),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("CIVTRACK_MEDIA_ROOT", str(BASE_DIR / ".state" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Sources' uploaded files: at most this many megabytes, of the types incidents/uploads.py
# lists (sniffed from the content); an office document may expand to at most
# CIVTRACK_MAX_UNZIPPED_MB when opened (default 10 × the upload limit).
CIVTRACK_MAX_UPLOAD_MB = env_int("CIVTRACK_MAX_UPLOAD_MB", 50)
CIVTRACK_MAX_UNZIPPED_MB = env_int(
    "CIVTRACK_MAX_UNZIPPED_MB", 10 * CIVTRACK_MAX_UPLOAD_MB
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
# API JSON bodies (API.md "Limits and errors"): at most this many bytes (413 beyond it;
# api/parsers.py, which also refuses more than 32 levels of nesting with a 400).
CIVTRACK_MAX_JSON_BYTES = env_int("CIVTRACK_MAX_JSON_BYTES", 2 * 1024 * 1024)
if CIVTRACK_MAX_JSON_BYTES < 1:
    raise ImproperlyConfigured("CIVTRACK_MAX_JSON_BYTES must be 1 or more.")

# Security. Behind a TLS-terminating proxy set DJANGO_SECURE_PROXY_SSL_HEADER=1.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_AGE", 8 * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the app append to X-Forwarded-For. 0 (the default): the
# client is REMOTE_ADDR and the header, which any client can forge, is ignored. N: the
# client is the N-th address from the right of X-Forwarded-For (each trusted proxy adds
# one). Set as REST_FRAMEWORK["NUM_PROXIES"] below, which the API throttles and the
# sign-in lockout both read, through civtrack.accounts.client_ip().
_num_proxies = env_int("DJANGO_NUM_PROXIES", 0)
if _num_proxies < 0:
    raise ImproperlyConfigured("DJANGO_NUM_PROXIES must be 0 or more.")
SILENCED_SYSTEM_CHECKS = env_list("DJANGO_SILENCED_SYSTEM_CHECKS", [])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",  # knox, 401 for non-ASCII tokens
        # DRF's, refusing sessions without a two-factor device when 2FA is mandatory
        "api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly"
    ],
    "DEFAULT_SCHEMA_CLASS": "api.schema.CivTrackAutoSchema",  # no docstrings in docs
    # JSON with API.md's size and depth limits (api/parsers.py); uploads keep theirs.
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("CIVTRACK_ANON_THROTTLE", "120/min"),
        "user": env_str("CIVTRACK_USER_THROTTLE", "2000/min"),
    },
    # Without it DRF keys anonymous throttling on the whole X-Forwarded-For header, so a
    # client sending a new value each time is never throttled (DJANGO_NUM_PROXIES above).
    "NUM_PROXIES": _num_proxies,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CivTrack API",
    "DESCRIPTION": (
        "Documented attacks on civilians in Syria, with sources and ranges.\n\n"
        "**Changelog.** One correction within v1 (2026-12-07): a casualty measure "
        "that is not recorded is `null` (an empty CSV cell), no longer `0` (DOMAIN.md "
        '"Not recorded is not zero"), so every `min`/`max` may be null: '
        '`{"min": null, "max": null}` is not recorded, `{"min": 3, "max": null}` is '
        "at least 3. A null bound matches no range filter; `<measure>_recorded="
        "true|false` filters on it; orderings put nulls last in both directions. "
        "Range sums gain `incidents_not_recorded`; `max_known` is removed (it read "
        "as a maximum below the minimum). A correction of false data is the one "
        "reason a v1 field changes."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The default enum hook, then the 400/429 every operation can answer (api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_common_responses",
    ],
}
REST_KNOX = {
    "TOKEN_TTL": None,  # set below from the environment
    "AUTO_REFRESH": False,
}
_token_days = env_int("CIVTRACK_TOKEN_TTL_DAYS", 90)
if _token_days > 0:
    from datetime import timedelta

    REST_KNOX["TOKEN_TTL"] = timedelta(days=_token_days)

# Background jobs (imports started from the admin or the API): django-tasks with its
# database backend, so no extra service is needed; `manage.py db_worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# CivTrack's own settings.
CIVTRACK_SITE_URL = env_str("CIVTRACK_SITE_URL", "http://127.0.0.1:8000")
CIVTRACK_TILE_URL = os.environ.get("CIVTRACK_TILE_URL", "")
# Exports (api/exports.py): memory for one export query's sorts and hashes, and the
# number of incidents from which the public's export lines are kept prebuilt (rebuilt
# in the background after a change; -1: never).
CIVTRACK_EXPORT_WORK_MEM = env_str("CIVTRACK_EXPORT_WORK_MEM", "64MB")
CIVTRACK_EXPORT_SNAPSHOT_MIN_ROWS = env_int("CIVTRACK_EXPORT_SNAPSHOT_MIN_ROWS", 20000)

# Content-Security-Policy (django-csp 4): everything from this site only; no inline
# script anywhere (pages, admin and API docs load scripts from files). Inline style
# attributes are allowed (server-drawn charts use them). A configured tile server is the
# one other origin images may come from.
_tile_origin = ""
if CIVTRACK_TILE_URL:
    from urllib.parse import urlsplit

    _tile = urlsplit(CIVTRACK_TILE_URL.replace("{s}", "a"))
    _tile_origin = f"{_tile.scheme}://{_tile.netloc.replace('a.', '*.', 1) if '{s}' in CIVTRACK_TILE_URL else _tile.netloc}"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", *([_tile_origin] if _tile_origin else [])],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
CIVTRACK_INSTANCE_NAME = env_str("CIVTRACK_INSTANCE_NAME", "CivTrack")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("CIVTRACK_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# Django 6 will assume https for scheme-less URLs in forms; opt in now.
FORMS_URLFIELD_ASSUME_HTTPS = True
