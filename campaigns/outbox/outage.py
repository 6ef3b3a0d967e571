"""Provider outages: when a failed attempt is tried again, and when a run of failures pauses the campaign.

A transient failure (429, a 5xx, a refused, timed-out or broken connection) is never the lead's fault,
so it never fails a message: the text waits, 30 s after the first failure, doubling to a 15-minute cap,
with no cap on the number of attempts. An ambiguous one is first looked up at the provider (found → sent,
absent → pending again), never resent blindly. Five transient failures in a row in one dataset pause its
campaign with the reason ("Twilio failing: 500 since 10:42"); resuming makes every pending text due at once.
"""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from campaigns.models import Message, SendingHealth
from campaigns.services import campaign_pause
from leads.models import Dataset

logger = logging.getLogger(__name__)

FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=15)
PAUSE_AFTER = 5  # transient failures in a row in one dataset


def backoff(failed_attempts: int) -> timedelta:
    """How long after its `failed_attempts`-th failed attempt a text waits: 30 s, 1 min, 2 min … 15 min."""
    doublings = min(max(failed_attempts, 1) - 1, 10)  # 30 s × 2¹⁰ is far past the cap already
    return min(FIRST_BACKOFF * 2**doublings, MAX_BACKOFF)


def transient_failure_count(*, message: Message, brief: str, provider: str, at: datetime) -> int:
    """One more transient failure for the message's dataset; pauses its campaign at the fifth in a row.

    One statement, so concurrent sends of the same dataset each count (the row lock orders them).
    Returns the length of the run.
    """
    dataset_id = message.lead.dataset_id
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SendingHealth._meta.db_table} AS health (dataset_id, failures, failing_since, last_error) "
            "VALUES (%s, 1, %s, %s) ON CONFLICT (dataset_id) DO UPDATE SET failures = health.failures + 1, "
            "failing_since = COALESCE(health.failing_since, EXCLUDED.failing_since), "
            "last_error = EXCLUDED.last_error RETURNING failures, failing_since",
            [dataset_id, at, brief],
        )
        failures, since = cursor.fetchone()
    if failures >= PAUSE_AFTER:
        reason = outage_reason(provider=provider, brief=brief, since=since, dataset=message.lead.dataset)
        _pause(dataset_id, reason=reason, at=at)
    return failures


def outage_reason(*, provider: str, brief: str, since: datetime, dataset: Dataset) -> str:
    """What staff read on a campaign paused by an outage, the time in the campaign's own time zone."""
    options = dataset.campaign_settings
    zone = ZoneInfo(options.sending_timezone if options else settings.TIME_ZONE)
    return f"{provider} failing: {brief} since {since.astimezone(zone):%H:%M}"


def sending_recovered(*, dataset_id) -> None:
    """An accepted send ends the dataset's run of failures (a cheap no-op when there is none). Run after
    every send, so written as SQL: the ORM's building of this one-line statement cost more CPU than it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {SendingHealth._meta.db_table} SET failures = 0, failing_since = NULL, last_error = '' "
            "WHERE dataset_id = %s AND failures > 0",
            [dataset_id],
        )


def _pause(dataset_id, *, reason: str, at: datetime) -> None:
    with transaction.atomic():
        dataset = Dataset.objects.select_for_update().filter(pk=dataset_id).first()
        if dataset is None or dataset.campaign_status != Dataset.CampaignStatus.ACTIVE:
            return  # paused already (by this run or by staff), or over
        campaign_pause(dataset=dataset, at=at, reason=reason)
    logger.warning("Campaign of dataset %s paused: %s", dataset_id, reason)
