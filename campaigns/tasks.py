"""Celery tasks: they load by id, take the clock, and call a service (STYLE.md)."""

import logging

from celery import shared_task
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from campaigns.cadence import tick
from campaigns.sending import message_reconcile, message_send
from clients.models import Client

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def tick_all() -> int:
    """Beat, every minute (public schema): one tick task per client running a campaign."""
    clients = Client.objects.filter(has_active_campaign=True, schema_ready=True, status=Client.Status.ACTIVE).exclude(
        schema_name="public"
    )
    count = 0
    for client in clients:
        with schema_context(client.schema_name):
            tick_client.apply_async(headers={"_schema_name": client.schema_name})
        count += 1
    return count


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=100)
def tick_client() -> None:
    result = tick(at=timezone.now())
    schema = connection.schema_name
    for message_id in [*result.queued, *result.resend]:
        send_message.apply_async(args=[str(message_id)], headers={"_schema_name": schema})
    for message_id in result.reconcile:
        reconcile_message.apply_async(args=[str(message_id)], headers={"_schema_name": schema})


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=45)
def send_message(message_id: str) -> None:
    outcome = message_send(message_id=message_id, at=timezone.now())
    log.info("Message %s: %s", message_id, outcome)


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=45)
def reconcile_message(message_id: str) -> None:
    outcome = message_reconcile(message_id=message_id, at=timezone.now())
    log.info("Reconciled message %s: %s", message_id, outcome)
