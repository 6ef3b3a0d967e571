"""pending → sending, committed before the provider is called, after every last-moment check.

A check that fails either gives the message up (it must never go), or leaves it pending with
the time it may go (`retry_at`), or with no time at all while its campaign is paused.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef

from campaigns import pacing
from campaigns.models import Message
from campaigns.numbers import number_not_registered, number_registered
from campaigns.outbox.record import CADENCE, message_found_at_provider, message_give_up
from campaigns.schedule import in_quiet_hours, may_send, next_send_time, quiet_hours_end, window_from_settings
from clients.access import current_client
from leads.eligibility import LEAD_FIELDS, Purpose
from leads.models import CampaignSettings, Dataset, Lead, Suppression
from leads.services import lead_leave_cadence

WINDOWED = (*CADENCE, "nurture")  # messages the campaign sends on its own: window and limits apply
PURPOSE = {
    "M1": Purpose.CADENCE,
    "M2": Purpose.CADENCE,
    "M3": Purpose.CADENCE,
    "nurture": Purpose.NUDGE,
    "opt_out_confirmation": Purpose.OPT_OUT_CONFIRMATION,
}
REPLY_GRACE = timedelta(minutes=30)  # a reply this soon after the lead's own text may go in quiet hours


@dataclass(frozen=True)
class Claim:
    message: Message | None  # claimed: now `sending`, to be sent
    word: str  # what happened, in a word, for logs and tests
    retry_at: datetime | None = None  # put off until then (window, rate limit)


def _claim_fields() -> list[str]:
    """What a send reads: the whole message and settings, and of the lead and dataset only what the
    checks need (a narrower SELECT is a good part of a send's cost)."""
    settings_fields = CampaignSettings._meta.concrete_fields
    return [
        *(field.name for field in Message._meta.concrete_fields),
        *(f"lead__{name}" for name in ("dataset", "phone_number", *LEAD_FIELDS)),
        "lead__dataset__campaign_status",
        "lead__dataset__campaign_settings",
        *(f"lead__dataset__campaign_settings__{field.name}" for field in settings_fields),
    ]


CLAIM_FIELDS = _claim_fields()


def message_claim(*, message_id, at: datetime) -> Claim:
    """pending → sending in its own committed transaction, after every last-moment check."""
    with transaction.atomic():
        found = (
            Message.objects.select_for_update(of=("self",))
            .select_related("lead", "lead__dataset", "lead__dataset__campaign_settings")
            .only(*CLAIM_FIELDS)
            .annotate(
                suppressed=Exists(Suppression.objects.filter(phone_number=OuterRef("to_number"))),
                sender_registered=number_registered(current_client()),
            )
            .filter(pk=message_id)
            .order_by()  # not the model's default ordering either
        )
        # One row by its key: read as is, not with `.first()`, whose ORDER BY over this wide select was a
        # sixth of a send's CPU in the worker (docs/outbox.md).
        message = next(iter(found), None)
        if message is None or message.status != Message.Status.PENDING:
            return Claim(None, "not pending")
        if message.next_attempt_at and message.next_attempt_at > at:
            return Claim(None, "not yet due")  # planned for later: its own task or a later tick sends it
        if message.attempts and message_found_at_provider(message=message, at=at):
            return Claim(None, "found")
        refused = _refused(message, at)
        if refused:
            return refused
        if message.message_type in WINDOWED:
            held = _held_by_campaign(message, at)
            if held:
                return held
        if message.message_type == Message.Type.REPLY:
            later = reply_held_until(lead=message.lead, at=at)
            if later:
                return _put_off(message, later, "quiet hours")
        message.status, message.sending_at = Message.Status.SENDING, at
        message.attempts += 1  # the row is locked: no concurrent increment
        _mark_sending(message)
    return Claim(message, "claimed")


def _mark_sending(message: Message) -> None:
    """The claim's write, as SQL: run for every text, and `save()` cost more CPU than the statement
    (`updated_at` is set by the table's trigger)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Message._meta.db_table} SET status = %s, sending_at = %s, attempts = %s WHERE id = %s",
            [str(message.status), message.sending_at, message.attempts, message.pk],
        )


def _refused(message: Message, at: datetime) -> Claim | None:
    """The lead may no longer receive it: given up, and the lead leaves the cadence."""
    wrong = _wrong_numbers(message)
    if wrong:
        message_give_up(message=message, at=at, reason=f"Not sent: {wrong}.")
        return Claim(None, "wrong number")
    purpose = PURPOSE.get(message.message_type) or (Purpose.AI_REPLY if message.ai_generated else Purpose.STAFF)
    reason = message.lead.not_messageable_reason(purpose=purpose, suppressed=message.suppressed)
    if reason is None:
        return None
    if message.suppressed:
        reason = "the number was suppressed after the message was queued"
    message_give_up(message=message, at=at, reason=f"Not sent: {reason}.")
    lead_leave_cadence(leads=Lead.objects.filter(pk=message.lead_id), reason=reason, at=at)
    return Claim(None, "suppressed" if message.suppressed else "ineligible")


def _wrong_numbers(message: Message) -> str | None:
    """A text goes only to its lead's number and only from a number registered to this client."""
    if message.to_number != message.lead.phone_number:
        return "it is addressed to a number that is not the lead's"
    if not message.from_number:
        return "it has no sending number"
    if not message.sender_registered:  # read with the message (`number_registered`)
        return number_not_registered(message.from_number, current_client()).rstrip(".")
    return None


def reply_held_until(*, lead: Lead, at: datetime) -> datetime | None:
    """When a reply (staff or Sophie's) held by quiet hours may go, or None if it may go now.

    Quiet hours (21:00–08:00 in the dataset's time zone) hold it to 08:00, except when it answers
    the lead's own text of the last 30 minutes: the lead is awake and waiting for the answer.
    """
    tz = reply_time_zone(lead)
    if not in_quiet_hours(at, tz):
        return None
    inbound = Message.objects.filter(lead_id=lead.pk, direction=Message.Direction.INBOUND, sent_at__lte=at)
    last_text = inbound.aggregate(at=Max("sent_at"))["at"]
    if last_text is not None and at - last_text <= REPLY_GRACE:
        return None
    return quiet_hours_end(at, tz)


def reply_time_zone(lead: Lead) -> ZoneInfo:
    """Quiet hours are read in the lead's dataset's sending time zone."""
    options = lead.dataset.campaign_settings
    return ZoneInfo(options.sending_timezone if options else settings.TIME_ZONE)


def _held_by_campaign(message: Message, at: datetime) -> Claim | None:
    """The campaign's state, window and rate limits: may this text go now?"""
    dataset = message.lead.dataset
    if dataset.campaign_status == Dataset.CampaignStatus.COMPLETED:
        message_give_up(message=message, at=at, reason="Not sent: the campaign ended before it could go.")
        return Claim(None, "campaign ended")
    if dataset.campaign_status != Dataset.CampaignStatus.ACTIVE:
        # Stays pending with no time set, so no tick offers it again; resuming sets one.
        Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
        return Claim(None, "campaign not active")
    options = dataset.campaign_settings
    window, respect = window_from_settings(options), options.delay_respect_sending_hours
    step = message.message_type if message.message_type in CADENCE else "M1"  # a nudge keeps to the window
    if not may_send(window, at, step=step, respect_sending_hours=respect):
        later = next_send_time(window, at, step=step, respect_sending_hours=respect)
        return _put_off(message, later, "outside the window")
    if pacing.limits(options):
        pacing.lock(options)  # one claim at a time may take the last slot
        free = pacing.next_free(options, at)
        if free > at:
            return _put_off(message, free, "rate limited")
    return None


def _put_off(message: Message, later: datetime, word: str) -> Claim:
    Message.objects.filter(pk=message.pk).update(next_attempt_at=later)
    return Claim(None, word, retry_at=later)
