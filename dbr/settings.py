"""DBR settings: everything that differs between machines comes from the environment."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

from dbr.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# Off unless asked for: scripts/start and scripts/test turn development mode on themselves (docs/deploy.md).
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "SECRET_KEY is not set. In production set SECRET_KEY to a long random string (for example the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`); for development set DEBUG=1 "
        "(scripts/start does). See docs/deploy.md."
    )

DBR_BASE_DOMAIN = env_str("DBR_BASE_DOMAIN", "localhost")
DBR_PUBLIC_SCHEME = env_str("DBR_PUBLIC_SCHEME", "http")
DBR_PUBLIC_PORT = env_int("DBR_PUBLIC_PORT", None)  # links carry a port only when it is set
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [DBR_BASE_DOMAIN, f".{DBR_BASE_DOMAIN}", "127.0.0.1", "testserver"])
# Each host trusts only its own origin (Django compares Origin with the request's host): a
# wildcard here would let one client's pages post to another's (docs/security.md §4).
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto and X-Forwarded-Host (and strips
# them from what clients send): one switch for both. Links in e-mails never depend on it.
DBR_BEHIND_PROXY = env_bool("DBR_BEHIND_PROXY", False)
if DBR_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# HTTPS hardening (docs/deploy.md, "TLS"): each from the environment, off by default so a plain-HTTP demo
# keeps working; a production deployment sets them and `manage.py check --deploy` comes out clean.
SECURE_SSL_REDIRECT = env_bool("DBR_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DBR_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DBR_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("DBR_HSTS_PRELOAD", False)
# The health check answers the load balancer over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]

# --- Tenancy (docs/architecture.md §2) -------------------------------------------------
SHARED_APPS = [
    "django_tenants",
    "django.contrib.postgres",
    "clients",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_htmx",
    "template_partials",
    "dbr",
    "devtools",
]
TENANT_APPS = [
    "django.contrib.contenttypes",
    "leads",
    "campaigns",
    "sophie",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "clients.Client"
TENANT_DOMAIN_MODEL = "clients.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "dbr.urls_public"
ROOT_URLCONF = "dbr.urls_tenants"
SHOW_PUBLIC_IF_NO_TENANT_FOUND = False
TENANT_CREATION_FAKES_MIGRATIONS = False
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
# Set search_path when the tenant changes, not before every query (halves round trips).
TENANT_LIMIT_SET_CALLS = True

MIDDLEWARE = [
    "dbr.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files, hashed and compressed, from the web process
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "dbr.middleware.BadInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "dbr.middleware.ClientAccessMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

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
                "clients.context_processors.access",
            ],
        },
    },
]

WSGI_APPLICATION = "dbr.wsgi.application"
ASGI_APPLICATION = "dbr.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dbr"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("DBR_TEST_DATABASE", "test_dbr")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "clients.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DBR_STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
# Outside development the web process serves `collectstatic`'s output through WhiteNoise: hashed names
# (cached for a year) and gzip/brotli copies. In development Django serves the source files as they are.
STATICFILES_BACKEND = (
    "django.contrib.staticfiles.storage.StaticFilesStorage"
    if DEBUG
    else "whitenoise.storage.CompressedManifestStaticFilesStorage"
)
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG  # development: the source files, as they change

# --- Storage: the seed's three buckets, kept apart per client ----------------
# Local files by default; S3-compatible when DBR_S3_BUCKET is set. Never served
# by URL directly: downloads go through an access-checked view.
MEDIA_ROOT = Path(env_str("DBR_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
DBR_S3_BUCKET = env_str("DBR_S3_BUCKET")
STORAGE_BUCKETS = ("csv_uploads", "client_logos", "exports")


def _bucket_storage(bucket: str) -> dict:
    if DBR_S3_BUCKET:
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": DBR_S3_BUCKET,
                "location": bucket,
                "endpoint_url": env_str("DBR_S3_ENDPOINT_URL") or None,
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        }
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT / bucket), "base_url": None},
    }


STORAGES = {
    "default": _bucket_storage("csv_uploads"),
    "staticfiles": {"BACKEND": STATICFILES_BACKEND},
    **{bucket: _bucket_storage(bucket) for bucket in STORAGE_BUCKETS},
}

# --- Redis and Celery ----------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "dbr")
# Publishing gives up after one attempt of at most ~2 s, so a Redis outage never hangs a request
# (clients.queue.enqueue reports the failure instead).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,  # Redis hands an unacknowledged (eta) task out again after this
    "socket_connect_timeout": 2,
    "socket_timeout": 2,
    "max_retries": 0,
}
# Keep the worker's database connection across tasks (bench/cadence: 67 → 128 msg/s).
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
DBR_WORKER_HEARTBEAT_KEY = "dbr:worker:heartbeat"
DBR_WORKER_STALE_SECONDS = 120
# How often beat runs the cadence tick; each tick plans sends up to the next one.
DBR_CADENCE_TICK_SECONDS = env_int("DBR_CADENCE_TICK_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "dbr.tasks.heartbeat", "schedule": 30.0},
    "cadence-tick": {"task": "campaigns.tasks.tick_all", "schedule": float(DBR_CADENCE_TICK_SECONDS)},
    "inbound-sweep": {"task": "campaigns.tasks.sweep_inbound_all", "schedule": 60.0},
    "sophie-replies": {"task": "sophie.tasks.replies_due_all", "schedule": 30.0},
    "import-sweep": {"task": "leads.tasks.sweep_imports_all", "schedule": 300.0},
    "file-retention": {"task": "leads.tasks.expire_files_all", "schedule": 3600.0},
    "outbound-events": {"task": "leads.tasks.webhooks_due_all", "schedule": 30.0},
    "sophie-insight-patterns": {"task": "sophie.tasks.insight_patterns_all", "schedule": crontab(hour=2, minute=40)},
}
# Spare, fully migrated schemas kept for new clients (clients/spares.py); 0 turns the pool off.
DBR_SPARE_SCHEMAS = env_int("DBR_SPARE_SCHEMAS", 2)
CELERY_BEAT_SCHEDULE["spare-schemas"] = {"task": "clients.tasks.refill_spare_schemas", "schedule": 300.0}
CELERY_BEAT_SCHEDULE["idle-clients"] = {"task": "clients.tasks.mark_idle_clients", "schedule": 60.0}

# --- Product settings (docs/architecture.md §6) ------------------------------------------
DBR_SMS_BACKEND = env_str("DBR_SMS_BACKEND", "simulator")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL")
TWILIO_TIMEOUT_SECONDS = env_int("TWILIO_TIMEOUT_SECONDS", 10)
# A worker process sends a batch of due texts on this many threads, overlapping the provider's latency
# (docs/outbox.md, "Sending several at once"); 1 sends one at a time.
DBR_SEND_THREADS = env_int("DBR_SEND_THREADS", 8)
DBR_SEND_BATCH = env_int("DBR_SEND_BATCH", 32)  # texts per send task
# Where the simulator posts its status callbacks when the public URL is not reachable from here.
DBR_SIMULATOR_CALLBACK_ORIGIN = env_str("DBR_SIMULATOR_CALLBACK_ORIGIN")
DBR_ALLOW_FICTION_NUMBERS = env_bool("DBR_ALLOW_FICTION_NUMBERS", False)
DBR_MAX_UPLOAD_MB = env_int("DBR_MAX_UPLOAD_MB", 100)
# What one list may hold (docs/security.md §2); a real list never comes near these.
DBR_IMPORT_MAX_ROWS = env_int("DBR_IMPORT_MAX_ROWS", 2_000_000)
DBR_IMPORT_MAX_COLUMNS = env_int("DBR_IMPORT_MAX_COLUMNS", 1_000)
DBR_IMPORT_XLSX_MAX_MB = env_int("DBR_IMPORT_XLSX_MAX_MB", 1_024)  # unpacked, whole workbook
DBR_IMPORT_XLSX_MAX_MEMBER_MB = env_int("DBR_IMPORT_XLSX_MAX_MEMBER_MB", 512)  # unpacked, one part
DBR_IMPORT_XLSX_MAX_RATIO = env_int("DBR_IMPORT_XLSX_MAX_RATIO", 200)
# Uploaded files and exports are deleted this many days after they were made (docs/security.md §6).
DBR_FILE_RETENTION_DAYS = env_int("DBR_FILE_RETENTION_DAYS", 90)
# Parser processes per import (bench/import: 2 is ~4% faster on an idle 2-core machine, 1 when it is busy).
DBR_IMPORT_WORKERS = env_int("DBR_IMPORT_WORKERS", 2)
DBR_LLM_BACKEND = env_str("DBR_LLM_BACKEND", "rules")
DBR_LLM_BASE_URL = env_str("DBR_LLM_BASE_URL")
DBR_LLM_API_KEY = env_str("DBR_LLM_API_KEY")
DBR_LLM_MODEL = env_str("DBR_LLM_MODEL")
# One limit per model call; the SDKs never retry (docs/llm.md).
DBR_LLM_TIMEOUT_SECONDS = env_int("DBR_LLM_TIMEOUT_SECONDS", 20)

# --- Accounts ------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # throttles failed logins before any password check
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600  # also the lifetime of invite links
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("DBR_SECURE_COOKIES", DBR_PUBLIC_SCHEME == "https")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "DBR <no-reply@dbr.example>")

AXES_FAILURE_LIMIT = env_int("DBR_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the login form field; axes would default to USERNAME_FIELD
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The token first: an unauthenticated request is told 401 with `WWW-Authenticate: Token`.
        "clients.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["clients.permissions.IsMemberOfThisClient"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # docs/api.md: keyset pages, one error shape, a rate per token counted in Redis.
    "DEFAULT_PAGINATION_CLASS": "clients.api_base.KeysetPagination",
    "EXCEPTION_HANDLER": "clients.api_base.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["clients.api_base.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
# Requests per token (or per signed-in user) and period: s, m, h or d.
DBR_API_RATE = env_str("DBR_API_RATE", "600/m")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Shared by every web process: the API's throttle counts.
    "api": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "dbr"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DBR API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is for the client's own users and tokens, like the API it describes.
    "SERVE_PERMISSIONS": ["clients.permissions.IsMemberOfThisClient"],
    "DESCRIPTION": "Everything staff do in the dashboard, for integrations. Authenticate with "
    "`Authorization: Token <key>` (Settings › API tokens). Pages are keyset cursors; every error is "
    '`{"error": {"code", "message", "fields"}}`.',
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "clients.api_base.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ContactStatusEnum": "leads.models.Lead.ContactStatus",
        "CampaignStatusEnum": "leads.models.Dataset.CampaignStatus",
        "UploadStatusEnum": "leads.models.Upload.Status",
        "ConversationStatusEnum": "campaigns.models.Conversation.Status",
        "MessageStatusEnum": "campaigns.models.Message.Status",
        "PromptTrialStatusEnum": "sophie.models.PromptTrial.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # The Twilio SDK logs every request with its headers at INFO: far too much for a sender.
    "loggers": {"axes": {"level": "WARNING"}, "twilio.http_client": {"level": "WARNING"}},
}
