"""Celery tasks: they load by id, take the clock, and call a service."""

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from campaigns.cadence import tick
from campaigns.inbound import SWEEP_AFTER, inbound_process, inbound_process_pending, inbound_unprocessed_exists
from campaigns.outbox.queue import outbox_due_exists
from campaigns.outbox.reconcile import message_reconcile
from campaigns.outbox.send import message_send, messages_send
from campaigns.transports.simulator import post_status_callback  # noqa: F401 (so every worker knows it)
from clients.models import Client
from clients.queue import enqueue, in_each_busy_client

log = logging.getLogger(__name__)
MAX_DELAY = timedelta(minutes=5)  # no long countdowns: Redis re-delivers them after its visibility timeout


@shared_task(ignore_result=True)
def tick_all() -> int:
    """Beat, every minute (public schema): one tick task per client running a campaign."""
    clients = Client.objects.filter(has_active_campaign=True, schema_ready=True, status=Client.Status.ACTIVE).exclude(
        schema_name="public"
    )
    count = 0
    for client in clients:
        with schema_context(client.schema_name):
            enqueue(tick_client, after_commit=False)
        count += 1
    return count


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=100)
def tick_client() -> None:
    at = timezone.now()
    client = connection.tenant
    try:
        result = tick(at=at)
    except Exception as exc:
        # Nothing was queued (the tick is one transaction); the campaign pages show why until one succeeds.
        Client.objects.filter(pk=client.pk).update(
            cadence_ran_at=at, cadence_error=f"The cadence run at {at:%H:%M:%S} UTC failed: {type(exc).__name__}: {exc}"
        )
        raise
    Client.objects.filter(pk=client.pk).update(cadence_ran_at=at, cadence_error="")
    now, later = [], []
    for message_id in [*result.queued, *result.resend]:
        (later if result.not_before.get(message_id, at) > at else now).append(message_id)
    sends_queue(now)
    for message_id in later:
        _send_at(message_id, result.not_before[message_id])
    for message_id in result.reconcile:
        enqueue(reconcile_message, str(message_id), after_commit=False)


def sends_queue(message_ids: list) -> None:
    """Texts due now, in batches of DBR_SEND_BATCH: each batch is one task that sends on several threads."""
    size = max(1, settings.DBR_SEND_BATCH)
    for start in range(0, len(message_ids), size):
        batch = [str(pk) for pk in message_ids[start : start + size]]
        if len(batch) == 1:
            enqueue(send_message, batch[0], after_commit=False)
        else:
            enqueue(send_messages, batch, after_commit=False)


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=45)
def send_message(message_id: str) -> None:
    outcome = message_send(message_id=message_id, at=timezone.now())
    log.info("Message %s: %s", message_id, outcome)
    if outcome.retry_at:
        _send_at(message_id, outcome.retry_at)


# A batch waits at most for ceil(batch / threads) provider timeouts in a row.
@shared_task(ignore_result=True, time_limit=300, soft_time_limit=270)
def send_messages(message_ids: list[str]) -> None:
    """A batch of texts due now, sent concurrently (campaigns.outbox.send.messages_send)."""
    for message_id, outcome in messages_send(message_ids=message_ids, clock=timezone.now):
        log.info("Message %s: %s", message_id, outcome)
        if outcome.retry_at:
            _send_at(message_id, outcome.retry_at)


def _send_at(message_id, eta: datetime | None) -> None:
    """Queues the send, delayed to `eta` if that is later; the tick picks up what is further off."""
    if eta and eta - timezone.now() > MAX_DELAY:
        return
    enqueue(send_message, str(message_id), eta=eta, after_commit=False)


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=45)
def reconcile_message(message_id: str) -> None:
    outcome = message_reconcile(message_id=message_id, at=timezone.now())
    log.info("Reconciled message %s: %s", message_id, outcome)


# Queued by the SMS webhook on every text: published with one LPUSH (clients/queue.py, docs/performance.md).
@shared_task(ignore_result=True, time_limit=60, soft_time_limit=45, lean_publish=True)
def process_inbound(inbound_id: str) -> None:
    row = inbound_process(inbound_id=inbound_id, at=timezone.now())
    log.info("Inbound %s: %s", inbound_id, row.outcome if row else "already processed")


@shared_task(ignore_result=True)
def sweep_inbound_all() -> int:
    """Beat (public schema), every minute, whatever the campaigns' state: replies arrive after campaigns
    end. Only clients with texts left unprocessed (broker down, worker killed) get a task; a client with no
    campaign running but outbox texts due (a staff reply held by quiet hours) gets a tick to send them."""
    count = 0
    for client in in_each_busy_client():
        if inbound_unprocessed_exists(at=timezone.now()):
            enqueue(sweep_inbound_client, after_commit=False)
            count += 1
        if not client.has_active_campaign and outbox_due_exists(at=timezone.now()):
            enqueue(tick_client, after_commit=False)
    return count


@shared_task(ignore_result=True, time_limit=300, soft_time_limit=270)
def sweep_inbound_client() -> None:
    done = inbound_process_pending(at=timezone.now(), older_than=SWEEP_AFTER)
    log.info("Inbound sweep: %s texts processed", done)
