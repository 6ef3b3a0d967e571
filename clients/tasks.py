"""Celery tasks of the ground floor: they call a service and log what it did."""

import logging

from celery import shared_task
from django.utils import timezone

from clients.queue import clients_idle_mark
from clients.spares import spares_refill

log = logging.getLogger(__name__)


@shared_task(ignore_result=True, time_limit=1800, soft_time_limit=1740)
def refill_spare_schemas() -> int:
    """Beat (public schema), every 5 minutes: the spare-schema pool back to DBR_SPARE_SCHEMAS current spares."""
    result = spares_refill()
    if result.skipped:
        log.info("Spare schemas: another refill is running")
    else:
        log.info(
            "Spare schemas: %s ready (%s built, %s migrated forward, %s dropped)",
            result.ready,
            result.built,
            result.updated,
            result.dropped,
        )
    return result.built


@shared_task(ignore_result=True, time_limit=300, soft_time_limit=270)
def mark_idle_clients() -> int:
    """Beat (public schema), every minute: clients with no pending work and no recent request leave the sweeps."""
    return clients_idle_mark(at=timezone.now())
