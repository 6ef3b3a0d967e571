"""Twilio message status callbacks: what a callback changes, and what it must never change.

Every callback is kept once per (sid, status). A message's status only moves forward
(queued/accepted < sending < sent < delivered/undelivered/failed) and a final state is
never overwritten, so callbacks arriving late, twice or out of order change nothing.
"""

import logging
import uuid
from datetime import datetime

from django.db import transaction

from campaigns.models import Message, MessageStatusEvent
from campaigns.outbox.codes import error_sentence, provider_error_apply
from campaigns.twilio_signature import params_storable
from leads import events

logger = logging.getLogger(__name__)

RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "canceled": 3,
}
FINAL_RANK = 3
# Twilio status → our Message.status; earlier statuses only show in `twilio_status`.
OUR_STATUS = {
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
    "canceled": Message.Status.FAILED,
}
# Until the send service has recorded a message as sent (with its lead moving on), its
# callbacks only wait in the log: `message_status_catch_up` applies them afterwards, and
# `message_callback_sid` tells reconciliation that the provider has the message.
NOT_RECORDED_YET = {Message.Status.PENDING, Message.Status.SENDING, Message.Status.UNKNOWN}


def message_status_record(*, params: dict[str, str], message_id: str | None, now: datetime) -> MessageStatusEvent:
    """Keeps one callback and applies it to its message; a repeat is a no-op."""
    params = params_storable(params)
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    code = params.get("ErrorCode") or None
    with transaction.atomic():
        message = _message_for_update(message_id, sid)
        event, created = MessageStatusEvent.objects.get_or_create(
            twilio_sid=sid, status=status, defaults={"message": message, "error_code": code, "payload": dict(params)}
        )
        if not created:
            logger.info("Status callback %s/%s repeated: ignored", sid, status)
            return event
        if message is None:
            logger.warning("Status callback %s/%s for no known message (message=%s): kept", sid, status, message_id)
        elif message.status in NOT_RECORDED_YET:
            logger.info("Status callback %s/%s arrived before the send was recorded: kept for later", sid, status)
        else:
            _apply(message, sid=sid, status=status, code=code, now=now)
    return event


def message_status_catch_up(*, message: Message, now: datetime) -> Message:
    """Applies callbacks that arrived while the message was in flight; the send service calls it
    after recording the provider's answer (or reconciliation after finding the SID)."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.twilio_sid:
            # Callbacks that named no message id and came before the SID was recorded.
            MessageStatusEvent.objects.filter(message=None, twilio_sid=message.twilio_sid).update(message=message)
        kept = MessageStatusEvent.objects.filter(message=message)
        for event in sorted(kept, key=lambda e: (RANK.get(e.status, -1), e.created_at)):
            _apply(message, sid=event.twilio_sid, status=event.status, code=event.error_code, now=now)
    return message


def message_callback_sid(*, message: Message) -> str | None:
    """The SID Twilio's callbacks gave this message, if any arrived: proof the provider has it."""
    event = message.status_events.exclude(twilio_sid="").order_by("created_at").first()
    return event.twilio_sid if event else None


def _message_for_update(message_id: str | None, sid: str) -> Message | None:
    messages = Message.objects.select_for_update().filter(direction=Message.Direction.OUTBOUND)
    if message_id:
        try:
            found = messages.filter(pk=uuid.UUID(message_id)).first()
        except ValueError:
            found = None
        if found is not None:
            return found
    return messages.filter(twilio_sid=sid).first() if sid else None


def _apply(message: Message, *, sid: str, status: str, code: str | None, now: datetime) -> None:
    if message.twilio_sid and message.twilio_sid != sid:
        # Another attempt's SID (a resend after an ambiguous failure): logged, not applied.
        logger.warning(
            "Status callback %s/%s names message %s, which has SID %s", sid, status, message.pk, message.twilio_sid
        )
        return
    rank, current = RANK.get(status), _current_rank(message)
    if rank is None:
        logger.info("Status callback %s/%s: status not tracked", sid, status)
        return
    if rank <= current:
        # A late "sent" after "delivered", or a second final state: never backwards.
        logger.info(
            "Status callback %s/%s ignored: message %s is already %s",
            sid,
            status,
            message.pk,
            message.twilio_status or message.status,
        )
        return
    fields = ["twilio_status", "updated_at"]
    message.twilio_status = status
    if not message.twilio_sid:
        message.twilio_sid = sid
        fields.append("twilio_sid")
    if status in OUR_STATUS:
        message.status = OUR_STATUS[status]
        fields.append("status")
    if status == "delivered":
        message.delivered_at = now
        fields.append("delivered_at")
    if code:
        message.error_code, message.error_message = code, error_sentence(code)
        fields += ["error_code", "error_message"]
    message.save(update_fields=fields)
    if rank == FINAL_RANK:
        _lead_side_effects(message, sid=sid, status=status, code=code, now=now)


def _current_rank(message: Message) -> int:
    if message.status in (Message.Status.DELIVERED, Message.Status.UNDELIVERED, Message.Status.FAILED):
        return FINAL_RANK
    return RANK.get(message.twilio_status or "", -1)


def _lead_side_effects(message: Message, *, sid: str, status: str, code: str | None, now: datetime) -> None:
    lead = message.lead
    if status == "delivered":
        events.message_delivered(lead, message_id=message.pk, sid=sid)
        return
    reason = error_sentence(code) or f"Twilio reported the message {status}."
    events.message_failed(lead, message_id=message.pk, error_code=code, reason=reason)
    provider_error_apply(message=message, code=code, at=now)
