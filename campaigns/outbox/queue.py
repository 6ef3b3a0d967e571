"""One text into the outbox outside the cadence tick (confirmations, replies): pending, sent after commit."""

from datetime import datetime

from campaigns.models import Conversation, Message
from clients.queue import enqueue
from leads.models import Lead


def message_queue(
    *, lead: Lead, content: str, message_type: str, from_number: str | None, at: datetime, ai_generated: bool = False
) -> Message:
    """A pending outbound text to the lead, on its conversation; its send task is queued after commit
    (if the broker is down, the tick's sweep sends it later)."""
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
        next_attempt_at=at,
        ai_generated=ai_generated,
    )
    enqueue(send_message, str(message.pk))
    return message
