"""Rate limits: sliding windows over when texts reached the provider.

A text occupies the windows from its send attempt until the provider answered (`answered_at`):
the request reaches the provider somewhere in between, so counting the answer keeps the
provider's own view of the rate under the limit too, whatever the latency. An attempt with no
answer recorded (in flight, or its worker killed) occupies until the transport timeout could
have ended it.

The tick plans a send time (`next_attempt_at`) for each text it queues: as slots free up, and
under a per-minute limit evenly spaced (60 s / limit apart), so a minute's texts do not leave in
one burst that the next minute must mirror exactly. The claim checks the windows again under a
per-settings lock, so concurrent workers cannot both take the last slot.
"""

import zlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Max, Value
from django.db.models.functions import Coalesce, Least

from campaigns.models import Message
from leads.models import CampaignSettings

WINDOWS = (
    ("messages_per_minute", timedelta(minutes=1)),
    ("messages_per_hour", timedelta(hours=1)),
    ("messages_per_day", timedelta(days=1)),
)


def limits(options: CampaignSettings) -> list[tuple[int, timedelta]]:
    return [(getattr(options, name), span) for name, span in WINDOWS if getattr(options, name) is not None]


def _timeout() -> timedelta:
    return timedelta(seconds=settings.TWILIO_TIMEOUT_SECONDS + 5)


def _attempts(options: CampaignSettings, at: datetime, span: timedelta):
    """Send attempts by datasets using these settings that still occupy the window ending at `at`."""
    ended = Coalesce(
        "answered_at",
        Least(ExpressionWrapper(F("sending_at") + _timeout(), output_field=DateTimeField()), Value(at)),
    )
    return (
        Message.objects.filter(
            lead__dataset__campaign_settings=options,
            direction="outbound",
            sending_at__gt=at - span - _timeout(),  # the index's range; `ended` narrows it (no upper
            # bound: a claim that waited for the lock must count attempts begun while it waited)
        )
        .annotate(ended=ended)
        .filter(ended__gt=at - span)
    )


def _recent_ends(options: CampaignSettings, at: datetime, limit: int, span: timedelta) -> list[datetime]:
    """The newest `limit` occupancy ends in the window, oldest first."""
    ends = _attempts(options, at, span).order_by("-ended").values_list("ended", flat=True)[:limit]
    return sorted(ends)


def next_free(options: CampaignSettings, at: datetime) -> datetime:
    """When one more text may go: `at` itself, or when the text holding the last slot leaves its window."""
    free = at
    for limit, span in limits(options):
        # The limit-th newest attempt in the window: when it leaves, a slot is free.
        blocker = _attempts(options, at, span).order_by("-ended").values_list("ended", flat=True)[limit - 1 : limit]
        if blocker:
            free = max(free, blocker[0] + span)
    return free


def slots(
    options: CampaignSettings, at: datetime, *, waiting: int, latest: datetime | None, count: int
) -> list[datetime | None]:
    """Send times for `count` more texts after the `waiting` already queued (the last of them planned
    for `latest`); None = not within one window.

    The i-th text from now may go once the text `limit` places before it has left the window.
    """
    planned: list[datetime | None] = [at] * count
    for limit, span in limits(options):
        ends = _recent_ends(options, at, limit, span)
        spare = limit - len(ends)
        for j in range(count):
            i = waiting + j
            if i < spare:
                continue
            if i - spare >= len(ends):
                planned[j] = None  # beyond one span: only texts sent from now on can free it
            elif planned[j] is not None:
                planned[j] = max(planned[j], ends[i - spare] + span)
    if options.messages_per_minute:
        gap = timedelta(minutes=1) / options.messages_per_minute
        previous = max(filter(None, [latest, *_recent_ends(options, at, 1, timedelta(minutes=1))]), default=None)
        for j, slot in enumerate(planned):
            if slot is None:
                break
            if previous is not None:
                planned[j] = slot = max(slot, previous + gap)
            previous = slot
    return planned


def waiting(options: CampaignSettings, before: datetime) -> tuple[int, datetime | None]:
    """How many texts already queued for these settings take slots before `before`, and the last one's time."""
    found = Message.objects.filter(
        lead__dataset__campaign_settings=options,
        direction="outbound",
        status=Message.Status.PENDING,
        next_attempt_at__lt=before,
    ).aggregate(count=Count("pk"), latest=Max("next_attempt_at"))
    return found["count"], found["latest"]


def lock(options: CampaignSettings) -> None:
    """Serialises claims under these settings until the transaction ends (advisory locks are database-wide)."""
    key = zlib.crc32(f"dbr-rate:{connection.schema_name}:{options.pk}".encode()) - 2**31
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
