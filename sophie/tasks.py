"""Celery tasks for Sophie's replies: they load by id, take the clock, and call a service."""

import logging

from celery import shared_task
from django.utils import timezone

from clients.queue import enqueue, in_each_busy_client, in_each_ready_client
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


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=100)
def message_quality_check(message_id: str) -> None:
    """After an AI text went to the outbox: its rule checks and score (docs/learning.md). A failure is
    shown in the review queue; it never touches the text, which is already on its way."""
    from sophie.insights.messages import message_check_failed
    from sophie.insights.messages import message_quality_check as check

    try:
        check(message_id=message_id, at=timezone.now())
    except Exception as error:
        log.exception("Quality check of message %s failed", message_id)
        message_check_failed(message_id=message_id, error=f"{type(error).__name__}: {error}", at=timezone.now())


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=45)
def handoff_flag(conversation_id: str, reason: str) -> None:
    from campaigns.models import Conversation
    from sophie.insights.conversations import conversation_handoff_flag

    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is not None:
        conversation_handoff_flag(conversation=conversation, reason=reason, at=timezone.now())


@shared_task(ignore_result=True)
def insight_patterns_all() -> int:
    """Beat (public schema), nightly: each ready client gets its campaign-pattern task."""
    count = 0
    for _client in in_each_ready_client():
        enqueue(insight_patterns_client, after_commit=False)
        count += 1
    return count


@shared_task(ignore_result=True, time_limit=1800, soft_time_limit=1700)
def insight_patterns_client() -> int:
    from sophie.insights.campaigns import patterns_all

    return patterns_all(at=timezone.now())
