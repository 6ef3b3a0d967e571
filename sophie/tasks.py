"""Celery tasks for Sophie's replies: they load by id, take the clock, and call a service."""

import logging

from celery import shared_task
from django.utils import timezone

from clients.queue import enqueue, in_each_busy_client
from sophie.planning import replies_due, replies_due_exist
from sophie.writing import reply_write as reply_write_service

log = logging.getLogger(__name__)
BATCH = 200  # due replies written per client task; the next beat takes the rest


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=100)
def reply_write(message_id: str) -> None:
    word = reply_write_service(message_id=message_id, at=timezone.now())
    log.info("Reply %s: %s", message_id, word)


@shared_task(ignore_result=True)
def replies_due_all() -> int:
    """Beat (public schema), every 30 s, whatever the campaigns' state: replies are due after campaigns end.
    Only clients with a due reply (a cheap check on the planned-reply index) get a task."""
    count = 0
    for _client in in_each_busy_client():
        if replies_due_exist(at=timezone.now()):
            enqueue(replies_due_client, after_commit=False)
            count += 1
    return count


@shared_task(ignore_result=True, time_limit=600, soft_time_limit=570)
def replies_due_client() -> int:
    at = timezone.now()
    due = list(replies_due(at=at).order_by("due_at").values_list("pk", flat=True)[:BATCH])
    for message_id in due:
        try:
            reply_write_service(message_id=message_id, at=timezone.now())
        except Exception:
            # The lease runs out and the next beat tries again; one bad row must not hold up the rest.
            log.exception("Writing reply %s failed", message_id)
    return len(due)
