"""cryptohub settings: one env-driven module (django-environ); tests override it in tests/settings.py."""

import os
from pathlib import Path

import environ
from csp.constants import NONCE

from cryptohub.envbool import envbool
from cryptohub.secretkey import settings_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env file is optional; real deployments set the environment directly.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


# --- Core ---
DEBUG = envbool("DEBUG", False)
# "production" makes every start need SECRET_KEY, manage.py on SQLite included.
CRYPTOHUB_ENV = env.str("CRYPTOHUB_ENV", default="development")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",  # first, so `manage.py runserver` speaks ASGI (HTTP + WebSocket)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "channels",
    "django_celery_beat",
    # Ships htmx itself (static/django_htmx/), so the dashboard loads it from this host.
    "django_htmx",
    "auditlog",  # the audit trail (healing/audit.py, common/audit.py)
    "providers",
    "pools",
    "healing",
    "dashboard",
]

MIDDLEWARE = [
    # First, as django-cors-headers asks: before anything that can answer (WhiteNoise, CommonMiddleware).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads the body (sessions, CSRF): an oversized request is a JSON 413 here.
    "cryptohub.bodylimits.BodyLimitMiddleware",
    # A view that finds the database down or locked past the wait answers 503 with Retry-After.
    "cryptohub.exceptions.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who made a change, for the audit trail (common/audit.py); after authentication.
    "cryptohub.auditing.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout raised anywhere above into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cryptohub.urls"
ASGI_APPLICATION = "cryptohub.asgi.application"
WSGI_APPLICATION = None
# The seed paths work with and without a trailing slash; the URL patterns accept both,
# so Django must not redirect (a redirect would drop a POST body).
APPEND_SLASH = False

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
            ],
        },
    },
]

# --- Database ---
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# No persistent connections, as Django advises under ASGI (each executor thread would keep its own open).
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"].setdefault("OPTIONS", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web workers, Celery) share the file: wait for a lock instead of failing. A
    # transaction takes the write lock when it begins (IMMEDIATE): one that read first and then
    # found another writer had committed would fail at once ("database is locked"), without waiting.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;",
                                       "transaction_mode": "IMMEDIATE", **DATABASES["default"]["OPTIONS"]}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3's pool instead (Django 5.1+), one per process, each connection checked before it is handed
    # out (CONN_HEALTH_CHECKS); README "PostgreSQL" says why and how to size CRYPTOHUB_DB_POOL_MAX.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A lock held elsewhere is waited for as long as SQLite waits (20 s), then the request is a 503.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c lock_timeout=20s")
    DATABASES["default"]["OPTIONS"].setdefault("pool", {
        "min_size": 1, "max_size": env.int("CRYPTOHUB_DB_POOL_MAX", default=8), "timeout": 10})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Secret key ---
# Never a key from the source: without SECRET_KEY only the tests and manage.py on SQLite run
# (with a throwaway key); uvicorn, Celery and the rest refuse (cryptohub/secretkey.py).
SECRET_KEY = settings_key(env.str("SECRET_KEY", default=""), production=CRYPTOHUB_ENV == "production",
                          sqlite=DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3")
# Rotation: the new key in SECRET_KEY, the old one(s) here until sessions signed with them expire.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# --- I18n ---
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Plain storage (no manifest) so pages work before and without collectstatic.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Redis: runtime state, Celery broker, Channels layer ---
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Every runtime key cryptohub writes starts with this; tests give each run its own.
CRYPTOHUB_REDIS_PREFIX = env.str("CRYPTOHUB_REDIS_PREFIX", default="ch:")
# Server processes that share the provider budgets (make run starts one per core): while Redis is
# unreachable each process spends only 1/N of every budget, so together they stay within it.
CRYPTOHUB_PROCESS_COUNT = env.int(
    "CRYPTOHUB_PROCESS_COUNT", default=env.int("WEB_CONCURRENCY", default=os.cpu_count() or 1))

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # A process's feed inbox takes every event of every channel: a burst must not overflow it (default 100).
        "CONFIG": {"hosts": [REDIS_URL], "prefix": CRYPTOHUB_REDIS_PREFIX + "asgi", "capacity": 2000},
    }
}

# The live feed's periods and bounds (CRYPTOHUB_FEED_*).
from cryptohub.feed_settings import *  # noqa: E402, F403

# --- Celery ---
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A Redis outage of any length must not end the worker: it reconnects for as long as it takes
# (the default gives up after 100 tries). Deliveries decided meanwhile: healing.monitoring.outbox.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULE: dict = {}

# --- Security (README, "Running in production") ---
# One switch for a deployment behind an HTTPS reverse proxy that sets X-Forwarded-Proto.
CRYPTOHUB_HTTPS = envbool("CRYPTOHUB_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = CRYPTOHUB_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if CRYPTOHUB_HTTPS else None
# Probes and scrapers keep plain HTTP (paths without the leading slash, as Django matches them).
SECURE_REDIRECT_EXEMPT = [r"^health/?$", r"^metrics/?$"]
SECURE_HSTS_SECONDS = env.int("CRYPTOHUB_HSTS_SECONDS", default=31_536_000) if CRYPTOHUB_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("CRYPTOHUB_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("CRYPTOHUB_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Pages load only the project's own assets (django-csp). img-src allows data: for the icons
# Swagger UI's and the admin's stylesheets embed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The nonce only where a page asks for it (the browsable API's code highlighting).
        "style-src": ["'self'", NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- CORS (README, "CORS"): cryptohub/cors_settings.py ---
from cryptohub.cors_settings import *  # noqa: E402, F403

# --- Audit trail (django-auditlog): diffs as JSON values; loaddata's raw saves are the shipped files.
AUDITLOG_STORE_JSON_CHANGES = True
AUDITLOG_DISABLE_ON_RAW_SAVE = True

# --- Login protection (django-axes) ---
# Failed logins are counted per client IP and per user name (each alone locks); token
# authentication failures count per IP (cryptohub/authentication.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("CRYPTOHUB_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("CRYPTOHUB_LOGIN_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = "cryptohub.security.lockout_parameters"
AXES_LOCKOUT_CALLABLE = "cryptohub.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "cryptohub.security.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Behind the reverse proxy the client IP is the last X-Forwarded-For entry the proxy added.
CRYPTOHUB_TRUSTED_PROXIES = env.int("CRYPTOHUB_TRUSTED_PROXIES", default=1 if CRYPTOHUB_HTTPS else 0)

# --- REST framework ---
# Reads are public unless the operator turns it off; every write needs a staff user.
CRYPTOHUB_PUBLIC_READ = envbool("CRYPTOHUB_PUBLIC_READ", True)
# Per-IP limits of anonymous data-plane callers, per request class (read, proxy, sentiment POST):
# "class=limits string" joined by ","; ";" separates windows inside one class.
CRYPTOHUB_ANON_LIMITS = env.str("CRYPTOHUB_ANON_LIMITS", default="read=600/minute,proxy=60/minute,sentiment=60/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "cryptohub.authentication.LockoutTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["cryptohub.permissions.StaffWriteReadConfigurable"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": None,
    "EXCEPTION_HANDLER": "cryptohub.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    # JSON bodies go through the strict, depth-bounded decoder (common.json_input); forms as usual.
    "DEFAULT_PARSER_CLASSES": ["common.drf_json.StrictJSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "cryptohub API",
    "DESCRIPTION": "An open gateway to free crypto data: catalogue, pools, data and health.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets come from the sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The data plane (/api/data/*, the proxy) is not Django: this hook documents its paths and
    # normalized schemas (built from providers.schemas), keeping the default enum hook first.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "healing.dataplane.openapi.add_data_plane",
        "healing.dataplane.openapi_assets.add_asset_paths",
        "healing.dataplane.compat.openapi_binance.add_binance_paths",
        "healing.dataplane.compat.openapi_coingecko.add_coingecko_paths",
    ],
}

# --- Request limits (README, "Limits on requests"): cryptohub/limit_settings.py ---
from cryptohub.limit_settings import *  # noqa: E402, F403

# --- Logging ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusal": {"()": "cryptohub.logfilters.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"},
                 "refusals": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["refusal"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django.security.*: requests Django refused as suspicious (bad Host, limits), one line each.
    "loggers": {"django.request": {"level": "ERROR"},
                "django.security": {"handlers": ["refusals"], "propagate": False}},
}

# --- Monitoring ---
# Health sweeps, alerting, roll-ups and pruning (healing/tasks.py). The DatabaseScheduler copies
# this schedule into django-celery-beat's tables on start, where the admin can edit it.
CELERY_BEAT_SCHEDULE.update({
    # `expires`: a sweep still queued when the next one is due is dropped, not run late.
    "healing.tasks.health_sweep_task": {
        "task": "healing.tasks.health_sweep_task", "schedule": 30.0, "options": {"expires": 25},
    },
    "healing.tasks.evaluate_alerts_task": {
        "task": "healing.tasks.evaluate_alerts_task", "schedule": 60.0, "options": {"expires": 55},
    },
    # The status page's incidents open and resolve on their own, a minute at the latest.
    "healing.tasks.evaluate_incidents_task": {
        "task": "healing.tasks.evaluate_incidents_task", "schedule": 60.0, "options": {"expires": 55},
    },
    "healing.tasks.sync_maintenance_task": {
        "task": "healing.tasks.sync_maintenance_task", "schedule": 60.0, "options": {"expires": 55},
    },
    # Every 10 minutes keeps the current hour's row near-live; rows are per hour.
    "healing.tasks.rollup_stats_task": {"task": "healing.tasks.rollup_stats_task", "schedule": 600.0},
    "healing.tasks.prune_history_task": {"task": "healing.tasks.prune_history_task", "schedule": 86400.0},
    # The most wanted answers asked again when their cached copy is gone or old (also after a purge).
    "healing.tasks.cache_warmup_task": {
        "task": "healing.tasks.cache_warmup_task", "schedule": 300.0, "options": {"expires": 280},
    },
    "healing.tasks.revalidate_discovered_task": {"task": "healing.tasks.revalidate_discovered_task",
                                                 "schedule": 7 * 86400.0, "options": {"expires": 3600}},
    "healing.tasks.sync_assets_task": {"task": "healing.tasks.sync_assets_task", "schedule": 86400.0,
                                       "options": {"expires": 3600}},
})
# The activity log and the cache warm-up (CRYPTOHUB_ACTIVITY_*, CRYPTOHUB_CACHE_WARM_TOP).
from cryptohub.operations_settings import *  # noqa: E402, F403

# Probes in flight at once; each holds one socket, so it is also capped below the open-files
# limit (healing/probes.py). 1,000 in flight sweeps 1,000 providers at 1.1 s in one round.
CRYPTOHUB_SWEEP_CONCURRENCY = env.int("CRYPTOHUB_SWEEP_CONCURRENCY", default=1000)
# Upper bound of one probe's deadline (seconds); a provider's shorter timeout_s wins.
CRYPTOHUB_HEALTH_TIMEOUT_S = env.float("CRYPTOHUB_HEALTH_TIMEOUT_S", default=8.0)
# Discovery (healing.discovery) may probe loopback/private addresses only when this is True: the tests.
CRYPTOHUB_DISCOVERY_ALLOW_PRIVATE = envbool("CRYPTOHUB_DISCOVERY_ALLOW_PRIVATE", False)
# Health checks, resolved alerts and test deliveries are kept this many days (uptime needs 30).
CRYPTOHUB_HISTORY_DAYS = env.int("CRYPTOHUB_HISTORY_DAYS", default=35)
CRYPTOHUB_ROLLUP_DAYS = env.int("CRYPTOHUB_ROLLUP_DAYS", default=400)
# Notification deliveries: attempts (first included) and the exponential backoff base (seconds).
CRYPTOHUB_NOTIFY_ATTEMPTS = env.int("CRYPTOHUB_NOTIFY_ATTEMPTS", default=4)
CRYPTOHUB_NOTIFY_BACKOFF_S = env.float("CRYPTOHUB_NOTIFY_BACKOFF_S", default=2.0)
# Telegram Bot API base URL (tests point it at a local receiver).
CRYPTOHUB_TELEGRAM_API_BASE = env.str("CRYPTOHUB_TELEGRAM_API_BASE", default="https://api.telegram.org")
# When set, GET /metrics needs "Authorization: Bearer <token>"; empty leaves it open.
CRYPTOHUB_METRICS_TOKEN = env.str("CRYPTOHUB_METRICS_TOKEN", default="")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cryptohub@localhost")

# --- Healing engine ---
# Fresh cache TTL per capability (seconds); a stale copy is kept CRYPTOHUB_STALE_TTL_S for
# stale-if-error. "raw" (the proxy) is not cached unless a call asks for it.
CRYPTOHUB_FRESH_TTL = {
    "price": 10, "markets": 60, "global": 60, "fear_greed": 3600, "trending": 300, "tvl": 600,
    "gas": 15, "news": 300, "sentiment": 300, "raw": 0,
    "address": 30, "tx": 10,
    # A forming candle moves with every trade, a book faster still: short, but enough to absorb bursts.
    "candles": 30, "orderbook": 2,
    # A 24 h ticker's last price moves as a price does: fresh as long.
    "ticker": 10,
    # DEX prices move by the block; stablecoin supplies and yields are refreshed upstream hourly-ish.
    "dex": 30, "stablecoins": 300, "yields": 600,
}
CRYPTOHUB_STALE_TTL_S = env.float("CRYPTOHUB_STALE_TTL_S", default=86400.0)
# After the fresh TTL, for this long the stale copy is answered at once while one refresh runs.
CRYPTOHUB_SWR_WINDOW_S = env.float("CRYPTOHUB_SWR_WINDOW_S", default=60.0)
# One overall deadline per data request (seconds): no upstream call outlives it.
CRYPTOHUB_DEADLINE_S = env.float("CRYPTOHUB_DEADLINE_S", default=8.0)
# Hedging starts the next provider once an attempt exceeds its p90 latency, but never sooner than this.
CRYPTOHUB_HEDGE_FLOOR_MS = env.float("CRYPTOHUB_HEDGE_FLOOR_MS", default=200.0)
# Upstream answers above this size are refused as bad data.
CRYPTOHUB_MAX_BODY_BYTES = env.int("CRYPTOHUB_MAX_BODY_BYTES", default=5_000_000)
# httpx logs every request URL at INFO, and a URL may carry a provider's key in its query string.
LOGGING["loggers"].update({"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}})

# --- Data capabilities ---
# ?consensus=N flags a provider whose value lies more than this many percent from the median
# (and counts it against the provider as bad data).
CRYPTOHUB_CONSENSUS_OUTLIER_PCT = env.float("CRYPTOHUB_CONSENSUS_OUTLIER_PCT", default=2.0)
# A local transformers model directory for sentiment scores; empty means VADER (offline, built in).
CRYPTOHUB_SENTIMENT_MODEL_DIR = env.str("CRYPTOHUB_SENTIMENT_MODEL_DIR", default="")
# /compat/binance: a USDT pair no exchange can answer may be answered from its USD pair (the answer
# says so in X-Cryptohub-Usd-For-Usdt). Off: a dollar is not a tether when the peg slips.
CRYPTOHUB_COMPAT_USDT_AS_USD = envbool("CRYPTOHUB_COMPAT_USDT_AS_USD", False)

# --- Engine tuning ---
# Pads every rate-limit window on our side (seconds): a granted token reaches the provider a
# little later, and that delay jitters (scheduling, pool, network); without slack, two adjacent
# windows' grants can land in one window at the provider. 0 disables the padding.
CRYPTOHUB_RATE_LIMIT_GUARD_S = env.float("CRYPTOHUB_RATE_LIMIT_GUARD_S", default=0.5)
# Decoded cache entries each process keeps between reads (least recently used dropped first);
# every use is still re-validated by a Redis GET (healing.engine.cache.LocalCache).
CRYPTOHUB_LOCAL_CACHE_ENTRIES = env.int("CRYPTOHUB_LOCAL_CACHE_ENTRIES", default=2048)
