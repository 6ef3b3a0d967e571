"""DBR settings: everything that differs between machines comes from the environment."""

from datetime import timedelta
from pathlib import Path

import dj_database_url

from dbr.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")

DBR_BASE_DOMAIN = env_str("DBR_BASE_DOMAIN", "localhost")
DBR_PUBLIC_SCHEME = env_str("DBR_PUBLIC_SCHEME", "http")
DBR_PUBLIC_PORT = env_int("DBR_PUBLIC_PORT", 8000 if DEBUG else None)
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
    "rest_framework.authtoken",
    "drf_spectacular",
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
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"

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
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
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
SESSION_COOKIE_SECURE = DBR_PUBLIC_SCHEME == "https"
CSRF_COOKIE_SECURE = DBR_PUBLIC_SCHEME == "https"
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
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["clients.permissions.IsMemberOfThisClient"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DBR API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema is for the client's own users and tokens, like the API it describes.
    "SERVE_PERMISSIONS": ["clients.permissions.IsMemberOfThisClient"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # The Twilio SDK logs every request with its headers at INFO: far too much for a sender.
    "loggers": {"axes": {"level": "WARNING"}, "twilio.http_client": {"level": "WARNING"}},
}
