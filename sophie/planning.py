"""When Sophie answers: one planned reply per burst of texts from a lead, and who she stays silent for.

A lead's text plans a reply as a `Message` (status `scheduled`, `due_at` set, no text yet); later texts
in the same burst move `due_at`, never add a second reply (a partial unique index is the backstop).
The text itself is written when the reply falls due (sophie/writing.py), from everything the lead said
since our last text. See docs/sophie.md.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from campaigns.models import Conversation, Message
from campaigns.outbox.claim import REPLY_GRACE, reply_time_zone
from campaigns.schedule import in_quiet_hours, next_opening, quiet_hours_end, window_from_settings
from campaigns.selectors import PLANNED
from clients.access import current_client
from clients.queue import enqueue
from leads.eligibility import Purpose
from leads.models import CampaignSettings, Lead, Suppression

RANDOM_DELAY_SECONDS = 300  # `ai_response_delay_random` adds 0 to this many seconds
ETA_HORIZON = timedelta(minutes=5)  # a reply due this soon is also queued with an eta; the beat takes the rest
STAFF_QUIET = timedelta(hours=24)  # after a staff message Sophie leaves the lead to that person
SILENT_STATUSES = {
    Lead.ContactStatus.CALL_BOOKED: "a call is booked",
    Lead.ContactStatus.REMOVED: "the lead is removed",
}


@dataclass(frozen=True)
class Plan:
    message: Message | None  # the planned reply, or None when Sophie stays silent
    silenced: str = ""  # why not, for logs and the lead page


def silence_reason(*, lead: Lead, at: datetime) -> str:
    """Why Sophie must not answer this lead now ("" when she may): the one list of silencing rules."""
    options = lead.dataset.campaign_settings
    if not current_client().sophie_enabled:
        return "Sophie is switched off for the company"
    if options is None or options.ai_mode == CampaignSettings.AiMode.OFF:
        return "AI replies are off for this dataset"
    not_messageable = lead.not_messageable_reason(
        purpose=Purpose.AI_REPLY, suppressed=Suppression.objects.filter(phone_number=lead.phone_number).exists()
    )
    if not_messageable:
        return not_messageable
    if lead.contact_status in SILENT_STATUSES:
        return SILENT_STATUSES[lead.contact_status]
    conversation = Conversation.objects.filter(lead=lead).only("handoff_at").first()
    if conversation and conversation.handoff_at:
        return "handed to a person (clear the hand-off in the inbox to let Sophie answer again)"
    outbound = Message.objects.filter(lead=lead, direction=Message.Direction.OUTBOUND)
    if outbound.filter(sent_by__isnull=False, created_at__gt=at - STAFF_QUIET).exists():
        return "a person texted the lead in the last 24 hours"
    answered = outbound.filter(ai_generated=True).exclude(status__in=[*PLANNED, Message.Status.CANCELLED]).count()
    if answered >= options.ai_max_messages_per_lead:
        return f"Sophie has sent this lead {answered} texts (the limit is {options.ai_max_messages_per_lead})"
    return ""


def reply_plan(*, inbound: Message, at: datetime, rng: random.Random | None = None) -> Plan:
    """Plans (or moves) the one reply to the burst `inbound` belongs to; cancels a planned one if silenced."""
    lead = Lead.objects.select_related("dataset__campaign_settings").get(pk=inbound.lead_id)
    arrived = inbound.sent_at or inbound.created_at
    with transaction.atomic():
        # The conversation row is the lock: two texts of one burst plan one reply, one after the other.
        conversation = Conversation.objects.select_for_update().get(pk=inbound.conversation_id)
        planned = Message.objects.filter(conversation=conversation, status__in=PLANNED).first()
        silenced = silence_reason(lead=lead, at=at)
        if silenced:
            if planned:
                reply_cancel(message=planned, reason=f"Not sent: {silenced}.", at=at)
            return Plan(None, silenced)
        options = lead.dataset.campaign_settings
        wait = timedelta(seconds=options.ai_multiple_messages_wait_seconds)
        if planned is not None:
            due = max(planned.due_at or at, arrived + wait)
        elif _unsent_reply_withdraw(conversation=conversation, at=at):
            # Written but not gone yet: this text joins that burst, and one reply answers both.
            planned, due = _new_reply(conversation, lead), arrived + wait
        else:
            delay = options.ai_response_delay_seconds
            if options.ai_response_delay_random:
                delay += (rng or random).randint(0, RANDOM_DELAY_SECONDS)
            planned, due = _new_reply(conversation, lead), arrived + timedelta(seconds=max(0, delay))
        planned.status, planned.content = Message.Status.SCHEDULED, ""  # a stale draft is rewritten
        planned.due_at = reply_due_in_window(options=options, lead=lead, due=due, last_text=arrived)
        planned.save()
        if planned.due_at - at <= ETA_HORIZON:
            from sophie.tasks import reply_write  # tasks import this module

            enqueue(reply_write, str(planned.pk), eta=planned.due_at if planned.due_at > at else None)
    return Plan(planned)


def _new_reply(conversation: Conversation, lead: Lead) -> Message:
    return Message(
        conversation=conversation,
        lead=lead,
        content="",
        direction=Message.Direction.OUTBOUND,
        message_type=Message.Type.REPLY,
        to_number=lead.phone_number,
        ai_generated=True,
    )


def _unsent_reply_withdraw(*, conversation: Conversation, at: datetime) -> bool:
    """Cancels Sophie's reply that is written but still waits in the outbox (a claim takes only
    `pending` rows, so this conditional update and a send can never both win)."""
    return bool(
        Message.objects.filter(
            conversation=conversation, ai_generated=True, sent_by=None, status=Message.Status.PENDING
        ).update(
            status=Message.Status.CANCELLED,
            error_message="Not sent: the lead wrote again before it went; Sophie answers both together.",
            next_attempt_at=None,
            updated_at=at,
        )
    )


def reply_due_in_window(*, options: CampaignSettings, lead: Lead, due: datetime, last_text: datetime) -> datetime:
    """`due` moved into the dataset's window when replies keep to it, and out of quiet hours unless it
    answers the lead's own text within 30 minutes (the platform floor, as for every answer)."""
    if options.respect_schedule_strictly or not options.respond_to_inbound_24_7:
        due = next_opening(window_from_settings(options), due) or due
    tz = reply_time_zone(lead)
    if in_quiet_hours(due, tz) and due - last_text > REPLY_GRACE:
        due = quiet_hours_end(due, tz)
    return due


def reply_cancel(*, message: Message, reason: str, at: datetime) -> int:
    """A planned reply that must not go (silenced, discarded by staff, lead opted out)."""
    return Message.objects.filter(pk=message.pk, status__in=PLANNED).update(
        status=Message.Status.CANCELLED, error_message=reason, due_at=None, updated_at=at
    )


def replies_due(*, at: datetime):
    """Planned replies whose time has come (the partial index on due_at)."""
    return Message.objects.filter(status=Message.Status.SCHEDULED, due_at__lte=at)


def replies_due_exist(*, at: datetime) -> bool:
    return replies_due(at=at).exists()


def replies_cancel_all(*, reason: str, at: datetime) -> int:
    """Every planned reply of this client (Sophie switched off)."""
    return Message.objects.filter(status__in=PLANNED).update(
        status=Message.Status.CANCELLED, error_message=reason, due_at=None, updated_at=at
    )
