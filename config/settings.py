"""Beacon settings: one module, driven by the environment.

Two run modes share this file:

* embedded (default): no ``DATABASE_URL`` -> SQLite in WAL mode under ``var/``;
  no ``REDIS_URL`` -> Celery tasks run in-process, beat runs inside the server
  process and the channel layer delivers across threads of that one process.
* production: ``DATABASE_URL=postgres://...`` -> PostgreSQL through psycopg 3;
  ``REDIS_URL=redis://...`` -> Redis broker, channels-redis, separate
  ``celery worker`` and ``celery beat`` processes.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(env_file)

VAR_DIR = Path(env.str("BEACON_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DATABASE_URL = env.str("DATABASE_URL", default="")
REDIS_URL = env.str("REDIS_URL", default="")
EMBEDDED = not REDIS_URL
DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    """Return the secret key: from the environment, or kept under var/ in embedded mode.

    Production mode refuses to start without an explicit key, because a key
    generated on one host would silently differ across web processes.
    """
    key = env.str("SECRET_KEY", default="")
    if key:
        return key
    if not EMBEDDED or DATABASE_URL:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in production mode (DATABASE_URL or REDIS_URL is set)."
        )
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists() or not key_file.read_text().strip():
        _write_private_once(key_file, secrets.token_urlsafe(50))
    return key_file.read_text().strip()


def _write_private_once(path: Path, text: str) -> None:
    """Create ``path`` with ``text``, readable by the owner only, unless another process won the race.

    The key is written to a private temporary file and hard-linked into place:
    the key file never exists half-written or world-readable, and two processes
    starting at once end up sharing the first key instead of each using its own.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    try:
        if path.exists():  # an empty key file left by a crash: replace it
            tmp.replace(path)
        else:
            path.hardlink_to(tmp)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin.apps.SimpleAdminConfig",  # explicit registration: keeps leaflet.admin (GDAL) out
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "channels",
    "leaflet",
    "governance",
    "dispatch",
    "intelligence",
    "tasking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost but one: every response gets the policy, also those other middleware answer.
    "beacon_core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "governance.session_security.IdleTimeoutMiddleware",
    "governance.middleware.LoginRequiredMiddleware",
    "governance.middleware.AuditRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
                "governance.context_processors.roles",
            ],
        },
    },
]

# --- database -------------------------------------------------------------
if DATABASE_URL:
    _db = env.db_url("DATABASE_URL")
    if _db["ENGINE"] in {"django.db.backends.postgresql_psycopg2"}:
        _db["ENGINE"] = "django.db.backends.postgresql"
    # Kept for a minute: requests run in a fixed pool of threads (beacon_core/asgi_handler.py),
    # each reusing its connection, so a server process holds at most BEACON_HTTP_CONCURRENCY of
    # them plus one for websocket checks. (Under Django's own ASGI handler every request had a new
    # thread, a kept connection was never reused, and the soak ran PostgreSQL out of connections.)
    # Health checks replace a connection the database dropped (a restart) before it is used.
    _db.setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})
    # Fail fast instead of hanging when the database is unreachable.
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db["OPTIONS"].setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
    DATABASES = {"default": _db}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "beacon.sqlite3")),
            "OPTIONS": {
                # WAL lets the web threads read while a writer commits; IMMEDIATE
                # takes the write lock up front so contended writes queue instead of
                # failing with "database is locked" half-way through a transaction.
                "init_command": (
                    "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                    "PRAGMA foreign_keys=ON;PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Every password sign-in goes through the lockout (governance.login_security, CJIS 5.5.3).
AUTHENTICATION_BACKENDS = ["governance.auth_backends.LockoutBackend"]
# This many failed sign-ins for one username within the window lock it for BEACON_LOCKOUT_MINUTES
# (CJIS: at most 5 consecutive failures, locked at least 10 minutes). Unknown usernames lock too.
BEACON_LOCKOUT_THRESHOLD = env.int("BEACON_LOCKOUT_THRESHOLD", default=5)
BEACON_LOCKOUT_MINUTES = env.int("BEACON_LOCKOUT_MINUTES", default=10)
BEACON_LOCKOUT_WINDOW_MINUTES = env.int("BEACON_LOCKOUT_WINDOW_MINUTES", default=60)
# One client address trying many usernames. Much higher than the per-name threshold: a station
# behind one NAT address must not lock every colleague out after a few typos. 0 turns it off.
BEACON_LOCKOUT_IP_THRESHOLD = env.int("BEACON_LOCKOUT_IP_THRESHOLD", default=50)

# A session unused this long ends (CJIS 5.5.5 asks for at most 30 minutes).
BEACON_IDLE_TIMEOUT_MINUTES = env.int("BEACON_IDLE_TIMEOUT_MINUTES", default=30)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The agency's own time zone: used for display, call numbers and hour-of-week analysis.
BEACON_TIME_ZONE = env.str("BEACON_TIME_ZONE", default="America/Chicago")
# After a person accepts or dismisses a finding, analyses do not propose the same subject again
# for this many days: a decided question is not put back in the review queue every night.
BEACON_FINDING_QUIET_DAYS = env.int("BEACON_FINDING_QUIET_DAYS", default=90)
# The audit trail records REMOTE_ADDR as the client address. Set this only when a proxy of ours
# sits in front and appends the client address to X-Forwarded-For (its last entry is then used).
BEACON_TRUST_X_FORWARDED_FOR = env.bool("BEACON_TRUST_X_FORWARDED_FOR", default=False)
# The auditor's CSV export streams at most this many events; narrow the filters for more.
BEACON_AUDIT_EXPORT_MAX_ROWS = env.int("BEACON_AUDIT_EXPORT_MAX_ROWS", default=200_000)
# Data exports (calls, findings, areas...) larger than this are refused with 400, not cut.
BEACON_EXPORT_MAX_ROWS = env.int("BEACON_EXPORT_MAX_ROWS", default=50_000)
# NENA EIDO (docs/eido.md). Agencies are named "<agency code>.<domain>" in the documents Beacon
# issues; set the domain to one the centre controls. NENA's schema is not shipped: point
# BEACON_EIDO_SCHEMA_DIR at a copy to validate every export and import against it at runtime.
BEACON_EIDO_DOMAIN = env.str("BEACON_EIDO_DOMAIN", default="beacon.invalid")
BEACON_EIDO_SCHEMA_DIR = env.str("BEACON_EIDO_SCHEMA_DIR", default="")
# An EIDO import larger than this many bytes is refused (413) before it is parsed.
BEACON_EIDO_MAX_BYTES = env.int("BEACON_EIDO_MAX_BYTES", default=1_000_000)
# The OASIS CAP 1.2 schema partner alerts are validated against (docs/alerts.md). Not shipped
# with Beacon (OASIS copyright); empty = the parser's own structural checks only.
BEACON_CAP_XSD = env.str("BEACON_CAP_XSD", default="")

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- REST API -------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous API call then gets 401 with a WWW-Authenticate header, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "beacon_core.api.authentication.CachedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Deeply nested JSON and lone surrogates are answered with 400 for every app's API.
    "DEFAULT_PARSER_CLASSES": ["beacon_core.api.parsers.SafeJSONParser"],
    "DEFAULT_PERMISSION_CLASSES": ["governance.api_permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "beacon_core.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "beacon_core.api.exceptions.exception_handler",
    # Per token (or signed-in user) and scope, counted in the default cache (docs/security.md).
    # A rate is "<n>/<s|min|hour|day>"; an empty value turns that limit off.
    "DEFAULT_THROTTLE_CLASSES": ["beacon_core.api.throttling.ScopedTokenThrottle"],
    # Rate limits by address (only for callers without a user) trust X-Forwarded-For exactly as
    # the audit trail does: not at all unless our proxy appends to it.
    "NUM_PROXIES": 1 if BEACON_TRUST_X_FORWARDED_FOR else 0,
    "DEFAULT_THROTTLE_RATES": {
        "api": env.str("BEACON_API_RATE", default="1200/min") or None,
        # A vehicle gateway may post fixes for a whole fleet under one token.
        "avl": env.str("BEACON_API_AVL_RATE", default="6000/min") or None,
        # The console's and phone's own JSON polling and type-ahead (not the API).
        "console": env.str("BEACON_CONSOLE_RATE", default="3000/min") or None,
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Beacon API",
    "DESCRIPTION": "Computer-aided dispatch with intelligence-led policing.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The error answers every operation can give (401, 403, 404, 400, ...), documented once.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "beacon_core.api.schema.add_error_responses",
    ],
    # One schema name per choice set: the same choices appear on several
    # serializers (status and expected_status, several "kind" fields), and
    # without names spectacular invents hashed ones and warns in check --deploy.
    "ENUM_NAME_OVERRIDES": {
        "CallStatusEnum": "dispatch.choices.CallStatus",
        "CallSourceEnum": "dispatch.choices.CallSource",
        "UnitStatusEnum": "dispatch.choices.UnitStatus",
        "UnitKindEnum": "dispatch.choices.UnitKind",
        "LocationKindEnum": "dispatch.choices.LocationKind",
        "PremiseNoteKindEnum": "dispatch.choices.PremiseNoteKind",
        "ObservationCategoryEnum": "dispatch.choices.ObservationCategory",
        "InvolvementRoleEnum": "dispatch.choices.InvolvementRole",
        "CallEventKindEnum": "dispatch.choices.CallEventKind",
        "SensitivityEnum": "governance.choices.Sensitivity",
        "AgencyKindEnum": "governance.choices.AgencyKind",
        "RoleEnum": "governance.choices.Role",
        "FindingKindEnum": "intelligence.choices.FindingKind",
        "FindingStatusEnum": "intelligence.choices.FindingStatus",
        "DecisionEnum": "intelligence.choices.Decision",
        "RunStatusEnum": "intelligence.choices.RunStatus",
        "AssignmentKindEnum": "tasking.choices.AssignmentKind",
        "AssignmentStatusEnum": "tasking.choices.AssignmentStatus",
    },
}

# --- cache ----------------------------------------------------------------
# Rate-limit counters and the audit trail's repeat window. Production shares them across web
# processes in Redis; embedded mode is one process, so its memory cache is the whole truth.
if REDIS_URL:
    CACHES = {
        "default": {
            # Degrades to "nothing cached" while Redis is down (beacon_core/cache.py): intake
            # must not fail because a rate-limit counter cannot be read.
            "BACKEND": "beacon_core.cache.OutageTolerantRedisCache",
            "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
            "KEY_PREFIX": env.str("CACHE_PREFIX", default="beacon"),
            # A Redis that does not answer (not just refuses) must not hold a request for long.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery and realtime --------------------------------------------------
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# DatabaseScheduler that records each run before starting it (beacon_core/beat_scheduler.py).
CELERY_BEAT_SCHEDULER = "beacon_core.beat_scheduler:DurableDatabaseScheduler"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
if EMBEDDED:
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "beacon_core.channel_layer.ThreadSafeInMemoryChannelLayer"}
    }
else:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
    # A task taken by a worker that dies (acks late) goes back to the queue after this many
    # seconds. It must exceed the longest task (the nightly analyses), or a slow run is handed
    # to a second worker while the first is still on it.
    # Workers look for such tasks every 10 s (kombu's default is one real scan per 100 s: ten
    # throttled 10 s ticks); the scan is one cheap sorted-set read.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("BEACON_BROKER_VISIBILITY_TIMEOUT", default=3600),
        "unacked_restore_interval": 10,
        "unacked_restore_throttle": 1,
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # channels-redis waits for messages with a blocking pop of up to 5 s, and
                # redis-py 8 gives up reading a socket after 5 s by default: whichever came first
                # decided whether a quiet websocket lived or died with "Timeout reading from
                # redis" (the soak, scripts/soak.py, lost consoles that way). Read for longer.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "prefix": env.str("CHANNELS_PREFIX", default="beacon"),
                # Messages waiting for one socket (and for one server process) before further
                # ones are dropped, silently (logged at INFO). channels-redis keeps 100; a console
                # gets ~40 call events a second at the soak's peak, so a 2.5 s stall of its
                # server lost frames (docs/benchmarks.md, Soak).
                "capacity": env.int("CHANNELS_CAPACITY", default=1000),
            },
        }
    }
# HTTP requests one server process runs inside Django at once; more wait on the event loop
# (beacon_core/asgi_limits.py). 0 = no bound.
BEACON_HTTP_CONCURRENCY = env.int("BEACON_HTTP_CONCURRENCY", default=8)
# Production shares each user's access facts between requests through the cache for at most
# this many seconds; any change to the rules makes them stale at once (governance/access_facts.py).
# 0 = read them from the database for every request. Embedded mode never shares them.
BEACON_ACCESS_CACHE_S = env.int("BEACON_ACCESS_CACHE_S", default=60)
# Events to an agency's consoles: the first after a quiet spell goes at once, later ones within
# this many seconds of the last send go together in one channel-layer message (dispatch.realtime).
# 0 = one message per event.
BEACON_AGENCY_EVENTS_EVERY_S = env.float("BEACON_AGENCY_EVENTS_EVERY_S", default=0.25)
# AVL moves reach consoles batched, one event per agency per this many seconds (dispatch.realtime).
BEACON_UNIT_MOVES_EVERY_S = env.float("BEACON_UNIT_MOVES_EVERY_S", default=1.0)
# The embedded server runs beat in a thread unless told not to (tests, management commands).
BEACON_EMBEDDED_BEAT = env.bool("BEACON_EMBEDDED_BEAT", default=EMBEDDED)

# --- maps and dispatch knobs ---------------------------------------------
LEAFLET_CONFIG = {
    "TILES": env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
    "ATTRIBUTION_PREFIX": "Beacon",
    "DEFAULT_CENTER": (
        env.float("MAP_CENTER_LAT", default=29.4241),
        env.float("MAP_CENTER_LON", default=-98.4936),
    ),
    "DEFAULT_ZOOM": 12,
    "RESET_VIEW": False,
}
H3_RESOLUTIONS = (7, 9, 11)
GEOCODER_URL = env.str("GEOCODER_URL", default="")

# --- security -------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (beacon_core.csp, docs/security.md): no inline script anywhere. The tile
# host of MAP_TILE_URL is allowed for images by itself; these add sources for other needs (an
# overlay image server, an external geocoder called from the browser), comma separated.
BEACON_CSP_EXTRA_IMG_SRC = env.list("CSP_EXTRA_IMG_SRC", default=[])
BEACON_CSP_EXTRA_CONNECT_SRC = env.list("CSP_EXTRA_CONNECT_SRC", default=[])
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and (DATABASE_URL or REDIS_URL) and env.bool("SECURE_COOKIES", default=True):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
