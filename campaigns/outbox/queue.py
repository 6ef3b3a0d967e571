"""One text into the outbox outside the cadence tick (confirmations, replies): pending, sent after commit."""

from datetime import datetime

from django.db.models import Q

from campaigns.models import Conversation, Message
from clients.models import User
from clients.queue import enqueue
from leads.models import Lead


def message_queue(
    *,
    lead: Lead,
    content: str,
    message_type: str,
    from_number: str | None,
    at: datetime,
    ai_generated: bool = False,
    sent_by: User | None = None,
    not_before: datetime | None = None,
) -> Message:
    """A pending outbound text to the lead, on its conversation; its send task is queued after commit
    (if the broker is down, the tick's sweep sends it later). With `not_before` later than `at` it waits
    for the tick instead (a reply held by quiet hours)."""
    from campaigns.tasks import send_message  # tasks import the whole cadence, which imports the outbox

    conversation, _ = Conversation.objects.get_or_create(
        lead=lead, defaults={"dataset_id": lead.dataset_id, "started_at": at, "last_message_at": at}
    )
    message = Message.objects.create(
        conversation=conversation,
        lead=lead,
        content=content,
        direction=Message.Direction.OUTBOUND,
        message_type=message_type,
        from_number=from_number,
        to_number=lead.phone_number,
        status=Message.Status.PENDING,
        queued_at=at,
        next_attempt_at=max(at, not_before or at),
        ai_generated=ai_generated,
        sent_by=sent_by,
    )
    if message.next_attempt_at <= at:
        enqueue(send_message, str(message.pk))
    return message


def outbox_due_exists(*, at: datetime) -> bool:
    """Cheap (the outbox's partial index): whether a text waits for the tick's sweep in this schema, such as
    a reply held by quiet hours, so a client with no campaign running still gets a tick."""
    due = Q(status=Message.Status.PENDING) | Q(status=Message.Status.UNKNOWN)
    return Message.objects.filter(due, next_attempt_at__lte=at).exists()
