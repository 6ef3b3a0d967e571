import time

from celery import shared_task

from dbr import health


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Run by beat; proves to /healthz that a worker is consuming the queue."""
    health.record_worker_heartbeat(time.time())
