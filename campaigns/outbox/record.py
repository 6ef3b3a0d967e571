"""How an attempt ends: recorded as sent (the lead moves on) or given up (failed, with the reason)."""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import F

from campaigns.models import Conversation, Message, MessageStatusEvent
from campaigns.outbox.callbacks import message_callback_sid, message_status_catch_up
from campaigns.schedule import due_after, next_send_time, window_from_settings
from leads import events
from leads.models import Lead

CADENCE = ("M1", "M2", "M3")
LEAD_PROGRESS_FIELDS = ["m1_sent_at", "m2_sent_at", "m3_sent_at", "contact_status", "next_step", "due_at"]


def message_give_up(*, message: Message, at: datetime, reason: str, code: str | None = None) -> None:
    """The message will not be sent: failed, with the reason staff see, and on the lead's timeline."""
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.FAILED, error_message=reason, error_code=code, next_attempt_at=None
    )
    events.message_failed(message.lead, message_id=message.pk, error_code=code, reason=reason)


def message_found_at_provider(*, message: Message, at: datetime) -> bool:
    """A status callback for this message proves the provider has it: recorded as sent, never resent."""
    sid = message_callback_sid(message=message)
    if sid:
        message_record_sent(message=message, sid=sid, provider_status="sent", at=message.sending_at or at)
    return bool(sid)


def message_record_sent(
    *, message: Message, sid: str, provider_status: str | None, at: datetime, answered_at: datetime | None = None
) -> None:
    """The transport accepted it: the message is sent and the lead moves on to its next step."""
    answered = {"answered_at": answered_at} if answered_at else {}
    with transaction.atomic():
        # Locked and re-read for what may have changed since the claim; the dataset and its settings
        # came with the message.
        lead = Lead.objects.select_for_update().only("dataset_id", *LEAD_PROGRESS_FIELDS).get(pk=message.lead_id)
        lead.dataset = message.lead.dataset
        Conversation.objects.filter(pk=message.conversation_id).update(
            message_count=F("message_count") + 1, last_message_at=at
        )
        events.message_sent(lead, message_id=message.pk, step=message.message_type, sid=sid)
        # The two writes that move the dashboard's counters come last, just before the commit: their triggers
        # update rows every concurrent send of the dataset updates too (the hourly message rollup, then the
        # dataset's counters), and those row locks are held until the commit. The message before the lead,
        # as the status callbacks take them.
        Message.objects.filter(pk=message.pk).update(
            **answered,
            status=Message.Status.SENT,
            twilio_sid=sid,
            twilio_status=provider_status,
            sent_at=at,
            next_attempt_at=None,
            error_message=None,
        )
        if message.message_type in CADENCE:
            _advance(lead, message.message_type, at)
        lead.last_message_at = at
        lead.total_messages = F("total_messages") + 1
        lead.save(update_fields=[*LEAD_PROGRESS_FIELDS, "last_message_at", "total_messages", "updated_at"])
    if _callbacks_kept(message_id=message.pk, sid=sid):
        message_status_catch_up(message=message, now=at)  # callbacks that beat the SID here


def _callbacks_kept(*, message_id, sid: str) -> bool:
    """Whether a status callback for this message arrived before its SID was recorded. Asked after every
    send, so written as SQL: the ORM's building of this one-line query cost more CPU than running it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {MessageStatusEvent._meta.db_table} "
            "WHERE message_id = %s OR (message_id IS NULL AND twilio_sid = %s))",
            [message_id, sid],
        )
        return cursor.fetchone()[0]


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
