"""When a conversation needs a person to look (`Conversation.needs_review`): Sophie handed off, the lead
complained, or her texts in it score low. Each also opens one insight for the review queue."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Avg

from campaigns import optout
from campaigns.models import Conversation, Message
from sophie.insights.review import insight_record
from sophie.models import Insight

LOW_SCORE = Decimal("0.6")  # the average of Sophie's scores in a conversation below which a person looks
_COMPLAINT = optout.any_of(
    r"\bcomplain\w*",
    r"\bharass\w*",
    r"\breport(?:ing)? (?:you|this|it)\b",
    r"\b(?:trading standards|ico|ombudsman|ofcom)\b",
    r"\b(?:rude|unprofessional|disgusting|ridiculous|pathetic|spam(?:ming)?)\b",
    r"\bhow did you get my (?:number|details)\b",
    r"\b(?:stop|quit) (?:texting|messaging|bothering|pestering) me\b",
    r"\bleave me alone\b",
)


def lead_complained(text: str, intent: str = "") -> bool:
    return intent == "hostile" or bool(_COMPLAINT.search(optout.normalise(text or "")))


def conversation_score_apply(*, conversation: Conversation, at: datetime) -> Decimal | None:
    """The conversation's score is the average of its AI messages' scores; low → needs review."""
    average = Message.objects.filter(
        conversation=conversation, ai_generated=True, ai_quality_score__isnull=False
    ).aggregate(score=Avg("ai_quality_score"))["score"]
    if average is None:
        return None
    score = Decimal(average).quantize(Decimal("0.01"))
    Conversation.objects.filter(pk=conversation.pk).update(quality_score=score, updated_at=at)
    if score < LOW_SCORE:
        conversation_flag(
            conversation=conversation,
            rule="low_score",
            at=at,
            severity=Insight.Severity.WARNING,
            category=Insight.Category.TONE,
            title="Sophie's texts in this conversation score low",
            description=f"The average quality of Sophie's texts here is {score} (below {LOW_SCORE}).",
            suggestion="Read the conversation and teach Sophie what she should have said.",
        )
    return score


def conversation_complaint_check(*, message: Message, intent: str, at: datetime) -> bool:
    """A lead's text that complains puts the conversation in front of a person."""
    if not lead_complained(message.content, intent):
        return False
    last_ours = (
        Message.objects.filter(lead_id=message.lead_id, direction=Message.Direction.OUTBOUND, sent_at__isnull=False)
        .order_by("-sent_at")
        .first()
    )
    conversation_flag(
        conversation=message.conversation,
        rule="complaint",
        key=str(message.pk),
        at=at,
        severity=Insight.Severity.CRITICAL,
        category=Insight.Category.TONE,
        title="The lead complained",
        description=f"The lead wrote: “{' '.join(message.content.split())[:300]}”.",
        suggestion="Answer the lead yourself; if Sophie's text caused it, teach her what to say instead.",
        message=last_ours if last_ours is not None and last_ours.ai_generated else None,
        original_text=last_ours.content if last_ours is not None else None,
    )
    return True


def conversation_handoff_flag(*, conversation: Conversation, reason: str, at: datetime) -> None:
    """Sophie handed the lead to a person (writing already set needs_review): the queue learns why."""
    last_inbound = (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
        .order_by("-created_at")
        .values_list("content", flat=True)
        .first()
    )
    conversation_flag(
        conversation=conversation,
        rule="handoff",
        key=f"{conversation.pk}:{conversation.handoff_at.isoformat() if conversation.handoff_at else at.isoformat()}",
        at=at,
        severity=Insight.Severity.INFO,
        category=Insight.Category.OBJECTION,
        title="Sophie handed a lead to a person",
        description=f"Why: {reason[:300]}. The lead wrote: “{' '.join((last_inbound or '').split())[:300]}”.",
        suggestion="If Sophie could have answered, teach her the answer (it becomes a good example).",
        original_text=last_inbound,
    )


def conversation_flag(*, conversation: Conversation, rule: str, at: datetime, key: str = "", **fields) -> None:
    Conversation.objects.filter(pk=conversation.pk, needs_review=False).update(needs_review=True, updated_at=at)
    insight_record(
        finding_key=f"{rule}:{key or conversation.pk}",
        at=at,
        insight_type=Insight.Type.CONVERSATION,
        conversation=conversation,
        dataset_id=conversation.dataset_id,
        affected_leads_count=1,
        **fields,
    )
