"""The Celery app: tenant-aware tasks, Redis broker (the beat schedule is CELERY_BEAT_SCHEDULE in settings)."""

import os

from django.conf import settings
from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dbr.settings")

app = CeleryApp("dbr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=False,  # at-most-once: a task is never re-run after a worker crash
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    task_tenant_cache_seconds=30,
)
app.autodiscover_tasks(lambda: settings.INSTALLED_APPS)
