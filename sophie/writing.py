"""A planned reply falls due: Sophie writes it, then hands it to the outbox, to staff (suggest mode), or
to a person (hand-off). The model is called outside any transaction; the row is leased meanwhile."""

from datetime import datetime, timedelta

from django.db import transaction

from campaigns.models import Conversation, Message
from campaigns.replies import reply_from_number
from clients.models import Notification
from clients.queue import enqueue
from leads import events
from leads.happenings import Happening, lead_happened
from leads.models import CampaignSettings, Lead
from leads.notifications import lead_notify
from sophie.agent import HANDOFF, AgentResult, agent_reply
from sophie.lessons import lessons_figures_refresh
from sophie.llm.base import Backend
from sophie.models import AiReply
from sophie.planning import reply_cancel, silence_reason
from sophie.replies import lead_reading_apply
from sophie.trials import trial_arm_store

LEASE = timedelta(minutes=2)  # longer than two model calls (20 s each); a worker that dies frees it then


def reply_write(*, message_id, at: datetime, backend: Backend | None = None) -> str:
    """Writes one due reply. Returns what happened in a word (for logs and tests)."""
    leased = _lease(message_id, at)
    if leased is None:
        return "not due"
    lead = Lead.objects.select_related("dataset__campaign_settings").get(pk=leased.lead_id)
    silenced = silence_reason(lead=lead, at=at)
    if silenced:
        reply_cancel(message=leased, reason=f"Not sent: {silenced}.", at=at)
        return "silenced"
    result = agent_reply(lead=lead, at=at, backend=backend)
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.status == Message.Status.CANCELLED:
            return "cancelled"  # an opt-out, staff or a switch-off meanwhile
        if message.status != Message.Status.SCHEDULED or message.due_at != leased.due_at:
            return "moved"  # the lead wrote again (or staff acted) meanwhile: the new plan stands
        lead.refresh_from_db()
        silenced = silence_reason(lead=lead, at=at)  # e.g. STOP arrived while the model was writing
        if silenced:
            reply_cancel(message=message, reason=f"Not sent: {silenced}.", at=at)
            return "silenced"
        newest = _newest_text(lead)
        if newest is not None and newest.pk != result.answered_up_to:
            _rewrite_soon(message=message, lead=lead, newest=newest, at=at)
            return "moved"
        word = _apply(message=message, lead=lead, result=result, at=at)
        _record(message=message, result=result, at=at)
        trial_arm_store(lead=lead, prompt_used=result.prompt, at=at)
    return word


def _lease(message_id, at: datetime) -> Message | None:
    """Claims a due reply by moving its due_at forward (only one worker's UPDATE matches)."""
    message = Message.objects.filter(pk=message_id, status=Message.Status.SCHEDULED, due_at__lte=at).first()
    if message is None:
        return None
    lease = at + LEASE
    claimed = Message.objects.filter(pk=message.pk, status=Message.Status.SCHEDULED, due_at=message.due_at).update(
        due_at=lease, updated_at=at
    )
    if not claimed:
        return None
    message.due_at = lease
    return message


def _newest_text(lead: Lead) -> Message | None:
    return Message.objects.filter(lead=lead, direction=Message.Direction.INBOUND).order_by("-created_at").first()


def _rewrite_soon(*, message: Message, lead: Lead, newest: Message, at: datetime) -> None:
    """The lead wrote while the model was writing: the burst's wait from their newest text, then again."""
    from sophie.tasks import reply_write as reply_write_task

    wait = timedelta(seconds=lead.dataset.campaign_settings.ai_multiple_messages_wait_seconds)
    due = max(at, (newest.sent_at or newest.created_at) + wait)
    Message.objects.filter(pk=message.pk).update(due_at=due, updated_at=at)
    enqueue(reply_write_task, str(message.pk), eta=due if due > at else None)


def _apply(*, message: Message, lead: Lead, result: AgentResult, at: datetime) -> str:
    options = lead.dataset.campaign_settings
    lead_reading_apply(
        lead=lead, status=result.status, sentiment=result.sentiment, reason=f"Sophie: {result.reason}", at=at
    )
    if result.action == HANDOFF:
        reply_handoff(lead=lead, reason=result.reason, at=at, message_id=message.pk)
    if not result.text:
        reply_cancel(message=message, reason=f"Not sent: handed to a person ({result.reason}).", at=at)
        events.ai_reply_written(lead, message_id=message.pk, outcome="handoff", reason=result.reason)
        return "handoff"
    message.content = result.text
    message.from_number = reply_from_number(lead=lead)
    message.due_at = None
    if options.ai_mode == CampaignSettings.AiMode.SUGGEST:  # staff approve every text, a hand-off's line too
        message.status = Message.Status.DRAFT
        message.save(update_fields=["content", "from_number", "due_at", "status", "updated_at"])
        events.ai_reply_written(lead, message_id=message.pk, outcome="draft")
        return "draft"
    reply_release(message=message, at=at)
    events.ai_reply_written(lead, message_id=message.pk, outcome=result.action, reason=result.reason)
    return "handoff" if result.action == HANDOFF else "queued"


def reply_release(*, message: Message, at: datetime) -> None:
    """A written reply goes to the outbox: pending, sent after commit (the claim re-checks everything)."""
    from campaigns.tasks import send_message
    from sophie.tasks import message_quality_check

    message.status, message.queued_at, message.next_attempt_at, message.due_at = (
        Message.Status.PENDING,
        at,
        at,
        None,
    )
    message.save(
        update_fields=["content", "from_number", "status", "queued_at", "next_attempt_at", "due_at", "updated_at"]
    )
    enqueue(send_message, str(message.pk))
    enqueue(message_quality_check, str(message.pk))  # its checks run in a worker, never in this send's way


def reply_handoff(*, lead: Lead, reason: str, at: datetime, message_id=None) -> None:
    """Sophie steps back: the conversation needs review and she stays silent until staff clear it."""
    Conversation.objects.filter(lead=lead).update(
        handoff_at=at, handoff_reason=reason[:500], needs_review=True, updated_at=at
    )
    events.lead_handed_off(lead, reason=reason, message_id=message_id)
    lead_happened(lead=lead, kind=Happening.HANDOFF, at=at, data={"reason": reason})
    lead_notify(lead=lead, kind=Notification.Kind.HANDOFF, reason=f"Sophie handed the lead over: {reason}", at=at)
    _handoff_insight(lead=lead, reason=reason)


def _handoff_insight(*, lead: Lead, reason: str) -> None:
    from sophie.tasks import handoff_flag

    conversation_id = Conversation.objects.filter(lead=lead).values_list("pk", flat=True).first()
    if conversation_id is not None:
        enqueue(handoff_flag, str(conversation_id), reason[:500])


def _record(*, message: Message, result: AgentResult, at: datetime) -> AiReply:
    ai_reply = AiReply.objects.create(
        message=message,
        prompt=result.prompt,
        prompt_version_number=result.prompt.version_number if result.prompt else None,
        backend=result.backend,
        model=result.model,
        lessons_used=[lesson for lesson in result.lessons_used if lesson],
        action=result.action,
        reason=result.reason,
        attempts=result.attempts,
        regenerated=result.regenerated,
        status=result.status or "",
        sentiment=result.sentiment or "",
        original_text=result.text,
        written_at=at,
    )
    lessons_figures_refresh(ai_reply.lessons_used)  # the lessons it used are applied once more
    return ai_reply
