"""`unknown` messages: the provider may or may not have them, so its own list decides; never a blind resend.

Found → sent. Absent → pending again, always (the attempt did not reach the provider, however many
there were), due after the same backoff as any transient failure. A lookup that fails itself (the
provider is still down) is tried again, the wait doubling from 2 minutes to the 15-minute cap.
"""

from datetime import datetime, timedelta

from django.db.models import F

from campaigns.models import Message
from campaigns.outbox.outage import MAX_BACKOFF, backoff
from campaigns.outbox.record import message_found_at_provider, message_record_sent
from campaigns.transports import get_transport
from campaigns.transports.base import Transport, TransportError

RECONCILE_AFTER = timedelta(minutes=2)
STUCK_SENDING = timedelta(minutes=5)


def message_unknown_mark(*, message: Message, at: datetime, reason: str) -> None:
    """The attempt's answer was lost: look the message up at the provider later."""
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.UNKNOWN,
        unknown_count=F("unknown_count") + 1,
        next_attempt_at=at + RECONCILE_AFTER,
        error_message=reason,
    )


def messages_interrupted_mark(*, at: datetime) -> int:
    """Sends that a lost task or a dead worker left `sending` for too long become `unknown`."""
    return Message.objects.filter(status=Message.Status.SENDING, sending_at__lt=at - STUCK_SENDING).update(
        status=Message.Status.UNKNOWN,
        unknown_count=F("unknown_count") + 1,
        next_attempt_at=at + RECONCILE_AFTER,
        error_message="The send was interrupted; checking with the provider whether it went out.",
    )


def message_reconcile(*, message_id, at: datetime, transport: Transport | None = None) -> str:
    """An `unknown` message, looked up at the provider: found → sent; absent → pending again."""
    message = Message.objects.select_related("lead").filter(pk=message_id, status=Message.Status.UNKNOWN).first()
    if message is None:
        return "not unknown"
    if message_found_at_provider(message=message, at=at):
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
            next_attempt_at=at + _lookup_wait(message, at), error_message=f"Still checking with the provider: {exc}"
        )
        return "still unknown"
    if sid:
        message_record_sent(message=message, sid=sid, provider_status="sent", at=message.sending_at or at)
        return "found"
    # The provider never had it: pending again, after the backoff its failed attempts earned.
    due = max(at, (message.sending_at or at) + backoff(message.attempts))
    Message.objects.filter(pk=message.pk, status=Message.Status.UNKNOWN).update(
        status=Message.Status.PENDING,
        next_attempt_at=due,
        error_message=f"Not found at the provider after attempt {message.attempts}; it will be sent again.",
    )
    return "absent"


def _lookup_wait(message: Message, at: datetime) -> timedelta:
    """Twice as long as the message has been unknown, from 2 minutes up to the cap."""
    waited = at - (message.sending_at or at)
    return min(max(RECONCILE_AFTER, waited * 2), MAX_BACKOFF)
