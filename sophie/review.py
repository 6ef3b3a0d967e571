"""What staff do with Sophie's planned replies and hand-offs (lead page and inbox): the one service per
action, used by the views, the admin and the API alike."""

from datetime import datetime

from django.db import transaction

from campaigns import content
from campaigns.models import Conversation, Message
from campaigns.replies import reply_text_problem, staff_reply_refusal
from clients.models import User
from clients.queue import enqueue
from leads import events
from leads.models import Lead
from sophie.models import AiReply
from sophie.planning import reply_cancel
from sophie.writing import reply_release


class ReviewRefused(Exception):
    """Why a staff action on a planned reply could not be done, for the person who tried."""


def planned_reply_cancel(*, message: Message, actor: User, at: datetime) -> None:
    if not reply_cancel(message=message, reason=f"Cancelled by {actor.get_full_name() or actor.email}.", at=at):
        raise ReviewRefused("This reply has already gone or been cancelled.")


def planned_reply_send_now(*, message: Message, actor: User, at: datetime) -> None:
    """A scheduled reply is written now instead of at its time (the same writing path as the beat)."""
    from sophie.writing import reply_write

    updated = Message.objects.filter(pk=message.pk, status=Message.Status.SCHEDULED).update(due_at=at, updated_at=at)
    if not updated:
        raise ReviewRefused("This reply is no longer scheduled.")
    reply_write(message_id=message.pk, at=at)


@transaction.atomic
def draft_send(*, message: Message, text: str, actor: User, at: datetime) -> Message:
    """Sends a draft as it is or as staff edited it; what they changed is kept on its AiReply."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    if message.status != Message.Status.DRAFT:
        raise ReviewRefused("This draft is no longer waiting: the lead wrote again or it was sent or discarded.")
    lead = Lead.objects.select_related("dataset__campaign_settings").get(pk=message.lead_id)
    text = content.to_gsm7((text or "").strip())
    problem = reply_text_problem(text) or staff_reply_refusal(lead=lead)
    if problem:
        raise ReviewRefused(problem)
    if text != message.content:
        AiReply.objects.filter(message=message).update(edited_by=actor, edited_at=at)
        message.content = text
    message.sent_by = actor
    message.save(update_fields=["content", "sent_by", "updated_at"])
    reply_release(message=message, at=at)
    return message


def draft_discard(*, message: Message, actor: User, at: datetime) -> None:
    if message.status != Message.Status.DRAFT or not reply_cancel(
        message=message, reason=f"Draft discarded by {actor.get_full_name() or actor.email}.", at=at
    ):
        raise ReviewRefused("This draft is no longer waiting.")
    AiReply.objects.filter(message=message).update(edited_by=actor, edited_at=at)
    from sophie.tasks import message_quality_check

    enqueue(message_quality_check, str(message.pk))  # a discarded draft is teaching material too


def handoff_clear(*, lead: Lead, actor: User, at: datetime) -> None:
    """Staff have dealt with the hand-off: Sophie may answer this lead's next text again."""
    cleared = Conversation.objects.filter(lead=lead, handoff_at__isnull=False).update(
        handoff_at=None, handoff_reason="", needs_review=False, updated_at=at
    )
    if cleared:
        events.handoff_cleared(lead, actor=actor)
