"""The Celery app: tenant-aware tasks, Redis broker (the beat schedule is CELERY_BEAT_SCHEDULE in settings)."""

import logging
import os
import sys

from celery.signals import beat_init
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


# --- Exactly one beat (docs/deploy.md, "Processes") ----------------------------------------------
# Two beats would tick every client twice a minute: the per-client tick lock keeps the outbox right, but
# every sweep and fan-out would run twice. Each beat takes a PostgreSQL advisory lock on a connection of
# its own and keeps it while it lives; PostgreSQL frees it the moment that process or connection dies, so
# a crashed beat never blocks its successor. A second beat finds the lock taken and exits with a message.
BEAT_LOCK_KEY = 0x44425242  # "DBRB": advisory locks are database-wide, one key for the beat


class BeatAlreadyRunning(RuntimeError):
    pass


def beat_lock_take():
    """The beat lock, on its own autocommit connection (returned: the lock lives as long as it does)."""
    import psycopg

    database = settings.DATABASES["default"]
    lock_connection = psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        autocommit=True,
        application_name="dbr-celery-beat-lock",
    )
    taken = lock_connection.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LOCK_KEY]).fetchone()[0]
    if not taken:
        started = lock_connection.execute(
            "SELECT min(a.backend_start) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.objid = %s AND l.granted",
            [BEAT_LOCK_KEY],
        ).fetchone()[0]
        lock_connection.close()
        since = f" (since {started:%Y-%m-%d %H:%M:%S %Z})" if started else ""
        raise BeatAlreadyRunning(
            f"Another Celery beat is already running for database {database['NAME']!r}{since}. "
            "Exactly one beat may run per deployment; this one stops. Stop the other beat first."
        )
    return lock_connection


_beat_lock = None  # held for the life of the beat process


@beat_init.connect
def _one_beat_only(sender=None, **kwargs) -> None:
    global _beat_lock
    try:
        _beat_lock = beat_lock_take()
    except BeatAlreadyRunning as exc:
        logging.getLogger("dbr.beat").critical("%s", exc)
        print(f"celery beat: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from exc
