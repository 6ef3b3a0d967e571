"""Sending one outbox message — at most once (DESIGN §4 mechanics).

pending → sending is committed before the provider is called; the SID is recorded after.
Only errors that cannot have reached the provider (and 429) go back to pending; a timeout,
a dropped connection or a 5xx makes the message `unknown` until reconciled against the
provider's own list. Nothing is ever resent blindly.
"""

import logging
import time
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q

from campaigns import pacing
from campaigns.models import Conversation, Message, MessageStatusEvent
from campaigns.schedule import due_after, may_send, next_send_time, validity_period, window_from_settings
from campaigns.services import campaign_pause
from campaigns.status import message_callback_sid, message_status_catch_up
from campaigns.transports import get_transport
from campaigns.transports.base import Transport, TransportError
from clients.access import client_url, current_client
from leads import events
from leads.models import CampaignSettings, Dataset, Lead, Suppression
from leads.suppressions import suppression_add

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_AFTER = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=5))
RECONCILE_AFTER = timedelta(minutes=2)
CADENCE = ("M1", "M2", "M3")
WINDOWED = (*CADENCE, "nurture")  # messages the campaign sends on its own: window and eligibility apply
FLAG_CODES = {
    "21211": "Twilio says the number is invalid (21211)",
    "21614": "Twilio says the number is not a mobile (21614)",
}


def status_callback_url(message: Message) -> str:
    return client_url(current_client(), f"/webhooks/twilio/status/?message={message.pk}")


def message_send(*, message_id, at: datetime, transport: Transport | None = None) -> str:
    """Sends one pending message; returns what happened, in a word, for logs and tests."""
    started = time.monotonic()
    message, outcome = _claim(message_id, at)
    if message is None:
        return outcome
    transport = transport or get_transport()
    try:
        result = transport.send(
            to=message.to_number,
            from_=message.from_number,
            body=message.content,
            status_callback=status_callback_url(message),
            validity_period=_validity(message, at),
        )
    except TransportError as exc:
        return _failed_attempt(message, exc, at, answered_at=_answered(at, started))
    _record_sent(message, sid=result.sid, provider_status=result.status, at=at, answered_at=_answered(at, started))
    return "sent"


def _answered(at: datetime, started: float) -> datetime:
    """The injected clock moved on by the time the provider took: the rate limits count to this instant."""
    return at + timedelta(seconds=time.monotonic() - started)


def _already_at_provider(message: Message, at: datetime) -> bool:
    """A status callback for this message proves the provider has it: record it, never resend."""
    sid = message_callback_sid(message=message)
    if sid:
        _record_sent(message, sid=sid, provider_status="sent", at=message.sending_at or at)
    return bool(sid)


LEAD_CHECKED = ["dataset", "manual_mode", "archived", "sms_capable", "reply_received_at", "contact_status"]


def _claim_fields() -> list[str]:
    """What a send reads: the whole message and settings, and of the lead and dataset only what the
    checks need (a narrower SELECT is a good part of a send's cost)."""
    settings_fields = CampaignSettings._meta.concrete_fields
    return [
        *(field.name for field in Message._meta.concrete_fields),
        *(f"lead__{name}" for name in LEAD_CHECKED),
        "lead__dataset__campaign_status",
        "lead__dataset__campaign_settings",
        *(f"lead__dataset__campaign_settings__{field.name}" for field in settings_fields),
    ]


CLAIM_FIELDS = _claim_fields()


def _claim(message_id, at: datetime) -> tuple[Message | None, str]:
    """pending → sending in its own committed transaction, after every last-moment check."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("lead", "lead__dataset", "lead__dataset__campaign_settings")
            .only(*CLAIM_FIELDS)
            .annotate(suppressed=Exists(Suppression.objects.filter(phone_number=OuterRef("to_number"))))
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != Message.Status.PENDING:
            return None, "not pending"
        if message.next_attempt_at and message.next_attempt_at > at:
            return None, "not yet due"  # planned for later: its own task or a later tick sends it
        if message.attempts and _already_at_provider(message, at):
            return None, "found"
        lead, dataset = message.lead, message.lead.dataset
        if message.suppressed:
            _give_up(message, at, "Not sent: the number was suppressed after the message was queued.")
            Lead.objects.filter(pk=lead.pk).update(next_step=None, due_at=None)
            return None, "suppressed"
        if message.message_type in WINDOWED:
            reason = _no_longer_eligible(lead, dataset)
            if reason:
                _give_up(message, at, f"Not sent: {reason}.")
                Lead.objects.filter(pk=lead.pk).update(next_step=None, due_at=None)
                return None, "ineligible"
            if dataset.campaign_status == Dataset.CampaignStatus.COMPLETED:
                _give_up(message, at, "Not sent: the campaign ended before it could go.")
                return None, "campaign ended"
            if dataset.campaign_status != Dataset.CampaignStatus.ACTIVE:
                # Stays pending with no time set, so no tick offers it again; resuming sets one.
                Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
                return None, "campaign not active"
            window = window_from_settings(dataset.campaign_settings)
            respect = dataset.campaign_settings.delay_respect_sending_hours
            step = message.message_type if message.message_type in CADENCE else "M1"  # a nudge keeps to the window
            if not may_send(window, at, step=step, respect_sending_hours=respect):
                later = next_send_time(window, at, step=step, respect_sending_hours=respect)
                Message.objects.filter(pk=message.pk).update(next_attempt_at=later)
                return None, "outside the window"
            if pacing.limits(dataset.campaign_settings):
                pacing.lock(dataset.campaign_settings)  # one claim at a time may take the last slot
                free = pacing.next_free(dataset.campaign_settings, at)
                if free > at:
                    Message.objects.filter(pk=message.pk).update(next_attempt_at=free)
                    return None, "rate limited"
        message.status, message.sending_at = Message.Status.SENDING, at
        message.attempts += 1  # the row is locked: no concurrent increment
        message.save(update_fields=["status", "sending_at", "attempts", "updated_at"])
    return message, "claimed"


def _no_longer_eligible(lead: Lead, dataset: Dataset) -> str | None:
    if lead.manual_mode:
        return "the lead is in manual mode"
    if lead.archived:
        return "the lead is archived"
    if not lead.sms_capable:
        return "the number cannot receive SMS"
    if lead.reply_received_at:
        return "the lead replied"
    if lead.contact_status in ("REMOVED", "COLD", "CONVERTED", "CALL_BOOKED", "HOT", "WARM", "ARCHIVED"):
        return f"the lead is {lead.get_contact_status_display().lower()}"
    return None


def _validity(message: Message, at: datetime) -> int | None:
    options = message.lead.dataset.campaign_settings
    if options is None or options.sending_hours_start is None:
        return None
    return validity_period(window_from_settings(options), at)


def _give_up(message: Message, at: datetime, reason: str, code: str | None = None) -> None:
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.FAILED, error_message=reason, error_code=code, next_attempt_at=None
    )
    events.message_failed(message.lead, message_id=message.pk, error_code=code, reason=reason)


def _failed_attempt(message: Message, exc: TransportError, at: datetime, *, answered_at: datetime) -> str:
    Message.objects.filter(pk=message.pk).update(answered_at=answered_at)
    if exc.kind == "retry":
        if message.attempts >= MAX_ATTEMPTS:
            _give_up(message, at, f"Not sent after {message.attempts} tries: {exc}")
            return "gave up"
        wait = RETRY_AFTER[min(message.attempts, len(RETRY_AFTER)) - 1]
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.PENDING, next_attempt_at=at + wait, error_message=f"Will retry: {exc}"
        )
        return "retry"
    if exc.kind == "ambiguous":
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.UNKNOWN,
            unknown_count=F("unknown_count") + 1,
            next_attempt_at=at + RECONCILE_AFTER,
            error_message=f"Unknown whether it was sent ({exc}); checking with the provider.",
        )
        return "unknown"
    _permanent(message, exc, at)
    return "failed"


def _permanent(message: Message, exc: TransportError, at: datetime) -> None:
    _give_up(message, at, str(exc), exc.code)
    lead = message.lead
    if exc.code in FLAG_CODES:
        Lead.objects.filter(pk=lead.pk).update(
            sms_capable=False, sms_capable_reason=FLAG_CODES[exc.code], next_step=None, due_at=None
        )
    elif exc.code == "21610":
        suppression_add(
            phone_number=message.to_number,
            source=Suppression.Source.TWILIO_21610,
            reason="The recipient had unsubscribed from this number (Twilio 21610).",
        )
    if exc.account_error and lead.dataset.campaign_status == Dataset.CampaignStatus.ACTIVE:
        campaign_pause(
            dataset=lead.dataset,
            at=at,
            reason=(
                f"Paused automatically: the SMS provider refused the account or number ({exc.code}: {exc}). "
                "Fix the account or sending number, then resume."
            ),
        )


def _record_sent(
    message: Message, *, sid: str, provider_status: str | None, at: datetime, answered_at: datetime | None = None
) -> None:
    """The transport accepted it: the message is sent and the lead moves on (DESIGN §4 'Contacted')."""
    answered = {"answered_at": answered_at} if answered_at else {}
    with transaction.atomic():
        Message.objects.filter(pk=message.pk).update(
            **answered,
            status=Message.Status.SENT,
            twilio_sid=sid,
            twilio_status=provider_status,
            sent_at=at,
            next_attempt_at=None,
            error_message=None,
        )
        # Locked and re-read for what may have changed since the claim; the dataset and its settings
        # came with the message.
        lead = Lead.objects.select_for_update().only("dataset_id", *LEAD_PROGRESS_FIELDS).get(pk=message.lead_id)
        lead.dataset = message.lead.dataset
        if message.message_type in CADENCE:
            _advance(lead, message.message_type, at)
        lead.last_message_at = at
        lead.total_messages = F("total_messages") + 1
        lead.save(update_fields=[*LEAD_PROGRESS_FIELDS, "last_message_at", "total_messages", "updated_at"])
        Conversation.objects.filter(pk=message.conversation_id).update(
            message_count=F("message_count") + 1, last_message_at=at
        )
        events.message_sent(lead, message_id=message.pk, step=message.message_type, sid=sid)
    if MessageStatusEvent.objects.filter(Q(message=message.pk) | Q(message=None, twilio_sid=sid)).exists():
        message_status_catch_up(message=message, now=at)  # callbacks that beat the SID here


LEAD_PROGRESS_FIELDS = ["m1_sent_at", "m2_sent_at", "m3_sent_at", "contact_status", "next_step", "due_at"]


def _advance(lead: Lead, step: str, at: datetime) -> None:
    number = int(step[1])
    setattr(lead, f"m{number}_sent_at", at)
    if lead.contact_status in ("READY", "CONTACTED_1", "CONTACTED_2"):
        lead.contact_status = f"CONTACTED_{number}"
    options = lead.dataset.campaign_settings
    following = f"M{number + 1}" if number < 3 else None
    if following and not getattr(options, f"{following.lower()}_message"):
        following = None
    lead.next_step, lead.due_at = following, None
    if following:
        window = window_from_settings(options)
        delay = getattr(options, f"{following.lower()}_delay_hours")
        due = due_after(window, at, delay_hours=delay, delay_type=options.delay_type)
        lead.due_at = next_send_time(
            window, due, step=following, respect_sending_hours=options.delay_respect_sending_hours
        )


def message_reconcile(*, message_id, at: datetime, transport: Transport | None = None) -> str:
    """An `unknown` message, looked up at the provider: found → sent; absent → pending once, then failed."""
    message = Message.objects.select_related("lead").filter(pk=message_id, status=Message.Status.UNKNOWN).first()
    if message is None:
        return "not unknown"
    if _already_at_provider(message, at):
        return "found"
    transport = transport or get_transport()
    try:
        sid = transport.find_sent(
            to=message.to_number,
            from_=message.from_number,
            sent_after=(message.sending_at or at) - timedelta(minutes=1),
            body=message.content,
        )
    except TransportError as exc:
        Message.objects.filter(pk=message.pk).update(
            next_attempt_at=at + RECONCILE_AFTER, error_message=f"Still checking with the provider: {exc}"
        )
        return "still unknown"
    if sid:
        _record_sent(message, sid=sid, provider_status="sent", at=message.sending_at or at)
        return "found"
    if message.unknown_count <= 1:
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.PENDING,
            next_attempt_at=at,
            error_message="Not found at the provider; sending once more.",
        )
        return "retry once"
    _give_up(
        message,
        at,
        "Not sent: the provider has no record of it after two attempts. Check the number and "
        "send it by hand if it matters.",
    )
    return "failed"
