"""Settings for the test suite: real PostgreSQL and Redis, fast hashing, fiction numbers allowed."""

import os
import tempfile

# The suite never depends on the environment: development's key when none is given, whatever DEBUG says.
os.environ.setdefault("SECRET_KEY", "test-only-insecure-key")

from dbr.settings import *  # noqa: E402, F403
from dbr.settings import STORAGE_BUCKETS, _bucket_storage  # noqa: E402, F401

DBR_ALLOW_FICTION_NUMBERS = True
# Links carry the development server's port unless a test (or a worker it starts) says otherwise.
DBR_PUBLIC_PORT = int(os.environ.get("DBR_PUBLIC_PORT") or 8000)
# Tests that start workers against a fake Twilio pass DBR_TEST_SMS_BACKEND=twilio.
DBR_SMS_BACKEND = os.environ.get("DBR_TEST_SMS_BACKEND", "locmem")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Redis database 15 unless told otherwise, so tests never touch a running demo's queue.
REDIS_URL = os.environ.get("DBR_TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
CELERY_BROKER_URL = REDIS_URL
CACHES = {**CACHES, "api": {**CACHES["api"], "LOCATION": REDIS_URL}}  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = "dbr-test"
# One temporary folder per test run, shared with the workers the tests start.
MEDIA_ROOT = Path(os.environ.get("DBR_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="dbr-test-media-"))  # noqa: F405
os.environ["DBR_TEST_MEDIA_ROOT"] = str(MEDIA_ROOT)
# WhiteNoise looks for collected files at start-up; the suite's templates use the sources (below).
STATIC_ROOT = MEDIA_ROOT / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {  # noqa: F405
    **STORAGES,  # noqa: F405
    # Templates find the static source files without a collectstatic (tests/dbr/test_production.py runs one).
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    **{
        bucket: {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(MEDIA_ROOT / bucket)},
        }
        for bucket in STORAGE_BUCKETS
    },
}
# Server threads in browser tests must not keep connections open past the test.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
