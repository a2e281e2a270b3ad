"""Settings for the studio: embedded defaults, overridden by the environment.

Every value that may change between a laptop and a server is read here, once,
through the typed helpers below. Nothing else in the project reads os.environ.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}"
        ) from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-dev-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "studio.errors.csrf_failure"

INSTALLED_APPS = [
    # First, so that `runserver` is the studio's server (Daphne, with the
    # limits of studio.server.edge) and serves websockets too; Daphne before
    # staticfiles, whose runserver it replaces.
    "studio.server",
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "taggit",
    # Its Swagger UI page and the static files it loads (no CDN).
    "ninja",
    "studio.accounts",
    "studio.projects",
    "studio.generations",
    "studio.prompts",
    "studio.galleries",
    "studio.sharing",
    "studio.storyboards",
    "studio.provenance",
    "studio.registry",
    "studio.live",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "studio.security_headers.SecurityHeaders",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "studio.middleware.RefuseUnreadableForms",
    "studio.middleware.RefuseNulCharacters",
]

ROOT_URLCONF = "studio.urls"
ASGI_APPLICATION = "studio.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.context_processors.studio",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
_SQLITE = DATABASE_URL.startswith("sqlite")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        # Opening a SQLite file is cheap but not free: keep it open (the
        # worker thread asks the database several times per clip).
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600 if _SQLITE else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The worker thread and the request threads write to the same file:
    # write-ahead logging lets readers and the writer proceed together and
    # commits skip most disk syncs; IMMEDIATE transactions take the write
    # lock up front instead of failing to upgrade a read lock later.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        transaction_mode="IMMEDIATE",
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
REDIS_SOCKET_TIMEOUT = 30
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # Reads must outlast the layer's 5 s blocking receive; redis-py's
                # own default of 5 s made idle websockets fail at that moment.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": REDIS_SOCKET_TIMEOUT,
                        "socket_connect_timeout": 5,
                    }
                ],
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
    # Share-link rate limits must count across server processes, and a clip's
    # Content Credentials verdict is worth keeping for all of them.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "studio",
            "OPTIONS": {"socket_timeout": 5, "socket_connect_timeout": 5},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            # Previews arrive every step for every viewer; the default of 100
            # drops messages for a slow reader.
            "CONFIG": {"capacity": 10_000, "expiry": 60},
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "projects:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic's target; in DEBUG, WhiteNoise serves straight from the finders.
STATIC_ROOT = None if DEBUG else BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Generated clips live under per-owner, unguessable paths and are served only
# through studio.generations.views.media, which checks the owner.
MEDIA_ROOT = Path(env_str("STUDIO_MEDIA_ROOT", str(BASE_DIR / "media"))).resolve()
MEDIA_URL = "/media/"

STUDIO_DEVICE = env_str("STUDIO_DEVICE", "auto")
if STUDIO_DEVICE not in ("auto", "cpu", "cuda") and not STUDIO_DEVICE.startswith(
    "cuda:"
):
    raise ImproperlyConfigured("STUDIO_DEVICE must be auto, cpu or cuda")
STUDIO_SIGNUP_OPEN = env_bool("STUDIO_SIGNUP_OPEN", True)
# The worker starts with the first request the ASGI app serves; tests turn it off.
STUDIO_SERVICE_AUTOSTART = env_bool("STUDIO_SERVICE_AUTOSTART", True)
STUDIO_MAX_QUEUED_PER_USER = env_int("STUDIO_MAX_QUEUED_PER_USER", 8)
STUDIO_MAX_VARIATIONS = 4
STUDIO_DEFAULT_MODEL = env_str("STUDIO_DEFAULT_MODEL", "builtin")
# Private files the studio makes for itself (its C2PA signing key, ...).
STUDIO_DATA_DIR = Path(env_str("STUDIO_DATA_DIR", str(BASE_DIR / "studio-data")))
# An operator's own C2PA certificate chain (PEM, leaf first) and EC key; without
# them the studio signs with a local CA it creates under STUDIO_DATA_DIR.
STUDIO_C2PA_CERT = env_str("STUDIO_C2PA_CERT")
STUDIO_C2PA_KEY = env_str("STUDIO_C2PA_KEY")
if bool(STUDIO_C2PA_CERT) != bool(STUDIO_C2PA_KEY):
    raise ImproperlyConfigured("Set both STUDIO_C2PA_CERT and STUDIO_C2PA_KEY.")
# Stamp a visible "AI" mark on downloads unless the download asks otherwise.
STUDIO_EXPORT_WATERMARK = env_bool("STUDIO_EXPORT_WATERMARK", False)
# Requests per minute per client address to share pages and to their media.
STUDIO_SHARE_RATE_LIMIT = env_int("STUDIO_SHARE_RATE_LIMIT", 60)
# Checks on /verify/ and POST /api/verify per client address a minute.
STUDIO_VERIFY_RATE_LIMIT = env_int("STUDIO_VERIFY_RATE_LIMIT", 20)
# The studio's id in the watermark (8 hex digits); derived from the secret
# key when left out (studio/provenance/identity.py).
STUDIO_WATERMARK_ID = env_str("STUDIO_WATERMARK_ID", "")
STUDIO_SHARE_MEDIA_RATE_LIMIT = env_int("STUDIO_SHARE_MEDIA_RATE_LIMIT", 600)
# Viewers one live stream takes through its share links, in one server process.
STUDIO_LIVE_MAX_VIEWERS = env_int("STUDIO_LIVE_MAX_VIEWERS", 200)
# Addresses or networks of the reverse proxies in front of the studio. A request
# from one of them is rate-limited by the client address the proxy forwards in
# X-Forwarded-For; from anyone else, by its own address, whatever it sends.
STUDIO_TRUSTED_PROXIES = env_list("STUDIO_TRUSTED_PROXIES", [])
for _proxy in STUDIO_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy)
    except ValueError:
        raise ImproperlyConfigured(
            f"STUDIO_TRUSTED_PROXIES: {_proxy!r} is not an IP address or network"
        ) from None

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "studio": {"handlers": ["console"], "level": "INFO"},
        "generation": {"handlers": ["console"], "level": "INFO"},
    },
}
