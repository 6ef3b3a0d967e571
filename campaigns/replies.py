"""Replies written by staff: refused when the lead may not get them, held by quiet hours when they
must wait, and sent through the outbox like every other text (see docs/inbox.md)."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from campaigns import content
from campaigns.models import Message
from campaigns.numbers import sending_number
from campaigns.outbox.claim import reply_held_until, reply_time_zone
from campaigns.outbox.queue import message_queue
from campaigns.schedule import in_quiet_hours
from clients.access import current_client
from clients.models import User
from leads.eligibility import Purpose
from leads.models import Lead, Suppression
from leads.services import lead_manual_mode_set

MAX_CHARACTERS = 1600  # Twilio refuses a longer body


class ReplyRefused(Exception):
    """Why a staff reply was not queued, for the person who wrote it."""


@dataclass(frozen=True)
class StaffReply:
    message: Message
    held_until: datetime | None  # quiet hours: the reply waits until then
    summary: str  # what happened, for the person who sent it


def staff_reply_send(*, lead: Lead, text: str, user: User, at: datetime, manual_mode: bool = True) -> StaffReply:
    """Queues the reply from the number the lead last texted; with `manual_mode` the lead is taken over
    from Sophie and the cadence."""
    text = content.to_gsm7(text.strip())
    problem = reply_text_problem(text) or staff_reply_refusal(lead=lead)
    if problem:
        raise ReplyRefused(problem)
    from_number = reply_from_number(lead=lead)
    if from_number is None:
        raise ReplyRefused("Not sent: no sending number is set for this dataset or the client.")
    held = reply_held_until(lead=lead, at=at)
    with transaction.atomic():
        message = message_queue(
            lead=lead,
            content=text,
            message_type=Message.Type.REPLY,
            from_number=from_number,
            at=at,
            sent_by=user,
            not_before=held,
        )
        if manual_mode:
            lead_manual_mode_set(lead=lead, enabled=True, actor=user, now=at)
    return StaffReply(message, held, _summary(held, lead))


def staff_reply_refusal(*, lead: Lead) -> str | None:
    """Why this lead cannot get a staff reply at all (the same rules as every send), or None."""
    suppressed = Suppression.objects.filter(phone_number=lead.phone_number).exists()
    reason = lead.not_messageable_reason(purpose=Purpose.STAFF, suppressed=suppressed)
    return f"Not sent: {reason}." if reason else None


def reply_from_number(*, lead: Lead) -> str | None:
    """The number the lead last texted, so the conversation stays on one number; else the dataset's."""
    last_to = (
        Message.objects.filter(lead=lead, direction=Message.Direction.INBOUND)
        .exclude(to_number=None)
        .exclude(to_number="")
        .order_by("-sent_at", "-created_at")
        .values_list("to_number", flat=True)
        .first()
    )
    options, client = lead.dataset.campaign_settings, current_client()
    return last_to or (sending_number(options, client) if options else client.twilio_phone_number or None)


def reply_timing_note(*, lead: Lead, at: datetime) -> str:
    """What the reply box tells staff about when a reply sent now would go; empty outside quiet hours."""
    tz = reply_time_zone(lead)
    if not in_quiet_hours(at, tz):
        return ""
    held = reply_held_until(lead=lead, at=at)
    if held is None:
        return "Quiet hours (21:00–08:00), but the lead texted in the last 30 minutes: a reply goes now."
    return f"Quiet hours (21:00–08:00): a reply sent now is held until {held.astimezone(tz):%H:%M on %a %-d %b}."


def _summary(held: datetime | None, lead: Lead) -> str:
    if held is None:
        return "Reply queued: it is on its way."
    local = held.astimezone(reply_time_zone(lead))
    return f"Quiet hours: the reply is held and goes at {local:%H:%M on %a %-d %b}."


def reply_text_problem(text: str) -> str | None:
    if not text:
        return "Write a reply first: the text is empty."
    if len(text) > MAX_CHARACTERS:
        return f"A text can be at most {MAX_CHARACTERS:,} characters; this one has {len(text):,}."
    return None
