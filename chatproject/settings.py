"""Django settings for Sotto, read from the environment with safe local defaults.

With no variable set the app runs for local use: DEBUG on, localhost only, SQLite,
the in-memory channel layer and the in-process room store. Setting ``REDIS_URL``
switches to channels-redis and the Redis room store so several daphne workers can
share rooms. See the configuration table in README.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    """Return the environment variable ``name`` or ``default`` when unset or empty."""
    value = os.environ.get(name, "")
    return value if value else default


def env_int(name: str, default: int) -> int:
    """Return the environment variable ``name`` as an integer, or ``default``."""
    value = os.environ.get(name, "")
    return int(value) if value else default


def env_float(name: str, default: float) -> float:
    """Return the environment variable ``name`` as a float, or ``default``."""
    value = os.environ.get(name, "")
    return float(value) if value else default


def env_bool(name: str, default: bool) -> bool:
    """Return the environment variable ``name`` read as a boolean, or ``default``."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    """Return the comma-separated environment variable ``name`` as a list."""
    value = os.environ.get(name, "")
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


DEBUG = env_bool("DJANGO_DEBUG", True)

_INSECURE_LOCAL_KEY = "django-insecure-local-only-never-use-in-production"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _INSECURE_LOCAL_KEY if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rooms",
    "presence",
    "frontend",
    "ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "frontend.security.SottoCSPMiddleware",
    "frontend.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatproject.urls"

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

ASGI_APPLICATION = "chatproject.asgi.application"
WSGI_APPLICATION = None

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"), conn_max_age=0
    )
}
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

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    if not DEBUG
    else {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Channels and the room store -------------------------------------------------

REDIS_URL = env_str("REDIS_URL", "")
REDIS_MAX_CONNECTIONS = env_int("SOTTO_REDIS_MAX_CONNECTIONS", 1000)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "max_connections": REDIS_MAX_CONNECTIONS}],
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Limits of the relay (docs/protocol.md section 4). Every one is an environment
# variable of the same name; README.md has the table.
SOTTO = {
    "MAX_FRAME_BYTES": env_int("SOTTO_MAX_FRAME_BYTES", 64 * 1024),
    "ROOM_CAPACITY": env_int("SOTTO_ROOM_CAPACITY", 64),
    "BROADCAST_RATE": env_float("SOTTO_BROADCAST_RATE", 30.0),
    "BROADCAST_BURST": env_float("SOTTO_BROADCAST_BURST", 60.0),
    "DIRECT_RATE": env_float("SOTTO_DIRECT_RATE", 300.0),
    "DIRECT_BURST": env_float("SOTTO_DIRECT_BURST", 600.0),
    "RATE_CLOSE_AFTER": env_float("SOTTO_RATE_CLOSE_AFTER", 10.0),
    "PRESENCE_HEARTBEAT": env_float("SOTTO_PRESENCE_HEARTBEAT", 5.0),
    "PRESENCE_TTL": env_float("SOTTO_PRESENCE_TTL", 15.0),
    "RESUME_GRACE": env_float("SOTTO_RESUME_GRACE", 10.0),
    "REPLAY_MAX": env_int("SOTTO_REPLAY_MAX", 256),
    "REPLAY_SECONDS": env_float("SOTTO_REPLAY_SECONDS", 60.0),
    "HELD_DIRECT_MAX": env_int("SOTTO_HELD_DIRECT_MAX", 256),
    "SEND_QUEUE_BYTES": env_int("SOTTO_SEND_QUEUE_BYTES", 4 * 1024 * 1024),
    "EMPTY_ROOM_TTL": env_int("SOTTO_EMPTY_ROOM_TTL", 300),
    "STATS_FLUSH_SECONDS": env_float("SOTTO_STATS_FLUSH_SECONDS", 5.0),
    "IDLE_RECORD_DAYS": env_int("SOTTO_IDLE_RECORD_DAYS", 30),
    "REDIS_URL": REDIS_URL,
    "REDIS_MAX_CONNECTIONS": REDIS_MAX_CONNECTIONS,
}

# --- Security ----------------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin", not "no-referrer": with no-referrer browsers send `Origin: null` on
# form posts, which Django's CSRF check rejects (the admin login). Nothing leaves
# the site either way.
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp 4). No inline script or style anywhere, the
# admin included; frontend.security adds this site's ws:// or wss:// origin to
# connect-src per request, and the page's view adds Trusted Types on top.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "manifest-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
    }
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging: ids, types and counts only, never bodies or keys --------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("SOTTO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"level": env_str("SOTTO_DJANGO_LOG_LEVEL", "INFO"), "propagate": True},
    },
}
