"""After each AI send: the rule checks (and an LLM review when a model backend is set) give the message a
quality score 0–1 and open an insight per finding. Runs in a worker task queued after the send was
committed, so a check never delays or blocks a text; a check that fails is itself recorded as an insight.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction

from campaigns.models import Message
from sophie.insights.conversations import conversation_score_apply
from sophie.insights.review import insight_record
from sophie.insights.rules import RULE_NAMES, Finding, MessageFacts, rules_check, rules_score
from sophie.llm import MODEL_BACKENDS, backend_get
from sophie.llm.base import AgentContext, Backend, LeadFacts, LLMError
from sophie.models import AiReply, Insight
from sophie.selectors import agent_inputs

log = logging.getLogger(__name__)
SHOWN = (Message.Status.PENDING, Message.Status.SENDING, Message.Status.UNKNOWN, Message.Status.SENT,
         Message.Status.DELIVERED, Message.Status.UNDELIVERED, Message.Status.RECEIVED)  # fmt: skip
TWO = Decimal("0.01")


@dataclass(frozen=True)
class ModelReview:
    """What a model said about one text: a score 0–1, one sentence, and a better text if it has one."""

    score: Decimal
    feedback: str
    suggested_text: str = ""


def message_quality_check(*, message_id, at: datetime, backend: Backend | None = None) -> Decimal | None:
    """Checks one AI message once; returns its score (None: not an AI message, or checked already)."""
    message = Message.objects.select_related("lead__dataset", "conversation").filter(pk=message_id).first()
    ai_reply = AiReply.objects.filter(message_id=message_id).first()
    if message is None or ai_reply is None or ai_reply.quality_checked_at is not None:
        return None
    facts = message_facts(message=message, ai_reply=ai_reply, at=at)
    findings = rules_check(facts)
    score = rules_score(findings)
    checks = _verdicts(findings)
    review = model_review(facts, backend=backend)
    if review is not None:
        score = (score + review.score) / 2
        checks.append({"rule": "llm_review", "passed": review.score >= Decimal("0.7"), "score": str(review.score),
                       "detail": review.feedback})  # fmt: skip
    score = score.quantize(TWO)
    with transaction.atomic():
        if not AiReply.objects.filter(pk=ai_reply.pk, quality_checked_at__isnull=True).update(
            quality_checks=checks, quality_checked_at=at
        ):
            return None  # another worker checked it meanwhile
        feedback = " ".join(f.title + "." for f in findings) or "No problems found."
        Message.objects.filter(pk=message.pk).update(
            ai_quality_score=score,
            ai_feedback=feedback,
            ai_feedback_status=Message.FeedbackStatus.PENDING if findings else None,
            updated_at=at,
        )
        for finding in findings:
            _open(message, finding, facts.text, at=at)
        if review is not None and review.score < Decimal("0.7"):
            _open_review(message, review, facts.text, at=at)
        _staff_edit(message, ai_reply, at=at)
        conversation_score_apply(conversation=message.conversation, at=at)
    return score


def message_check_failed(*, message_id, error: str, at: datetime) -> None:
    """A check that could not run is shown in the review queue, once per message."""
    message = Message.objects.select_related("lead").filter(pk=message_id).first()
    if message is None:
        return
    insight_record(
        finding_key=f"check_failed:{message_id}",
        at=at,
        insight_type=Insight.Type.MESSAGE,
        message=message,
        conversation_id=message.conversation_id,
        dataset_id=message.lead.dataset_id,
        severity=Insight.Severity.WARNING,
        category=Insight.Category.GUARDRAIL,
        title="Sophie's quality check could not run",
        description=f"The checks of this message failed: {error[:500]}",
        suggestion="Read the message yourself; the error is in the worker's log.",
        original_text=message.content,
    )


def message_facts(*, message: Message, ai_reply: AiReply, at: datetime) -> MessageFacts:
    lead = message.lead
    earlier = list(
        Message.objects.filter(lead=lead, created_at__lt=message.created_at)
        .filter(status__in=SHOWN)
        .order_by("created_at")
        .values_list("direction", "content")
    )
    last_ours = max((i for i, (way, _) in enumerate(earlier) if way == Message.Direction.OUTBOUND), default=-1)
    lead_texts = tuple(text for way, text in earlier[last_ours + 1 :] if way == Message.Direction.INBOUND)
    inputs = agent_inputs(dataset=lead.dataset, at=at, lead=lead)
    context = AgentContext(
        prompt=inputs.text,
        sections=inputs.sections,
        lessons=inputs.lessons,
        thread=(),
        new_texts=lead_texts,
        lead=LeadFacts(first_name=lead.first_name or "", status=lead.contact_status),
        company_name=inputs.values.company_name,
        agent_name=inputs.values.agent_name,
        booking_link=inputs.values.booking_link,
    )
    return MessageFacts(
        text=ai_reply.original_text or message.content,
        message_type=message.message_type or "reply",
        lead_status=ai_reply.status or lead.contact_status,
        lead_texts=lead_texts,
        earlier_texts=tuple(text for way, text in earlier if way == Message.Direction.OUTBOUND),
        context=context,
    )


def model_review(facts: MessageFacts, *, backend: Backend | None = None) -> ModelReview | None:
    """A model's review of the text, when a model backend is set (the rules backend has nothing to add)."""
    backend = backend or backend_get()
    review = getattr(backend, "review", None)
    if backend.name not in MODEL_BACKENDS or review is None:
        return None
    try:
        answer = review(facts.text, lead_texts=facts.lead_texts, context=facts.context)
    except LLMError as error:
        log.warning("LLM review failed: %s", error.reason)
        return None
    if not answer:
        return None
    score = min(Decimal("1"), max(Decimal("0"), Decimal(str(answer["score"])))).quantize(TWO)
    return ModelReview(score, answer.get("feedback", "")[:1000], (answer.get("suggested_text") or "")[:1000])


def _verdicts(findings: list[Finding]) -> list[dict]:
    failed = {finding.rule: finding for finding in findings}
    return [failed[name].to_dict() if name in failed else {"rule": name, "passed": True} for name in RULE_NAMES]


def _where(message: Message) -> dict:
    return {
        "insight_type": Insight.Type.MESSAGE,
        "message": message,
        "conversation_id": message.conversation_id,
        "dataset_id": message.lead.dataset_id,
        "affected_leads_count": 1,
    }


def _open(message: Message, finding: Finding, text: str, *, at: datetime) -> None:
    insight_record(
        finding_key=f"{finding.rule}:{message.pk}",
        at=at,
        **_where(message),
        severity=finding.severity,
        category=finding.category,
        title=finding.title,
        description=finding.description,
        suggestion=finding.suggestion,
        original_text=text,
    )


def _open_review(message: Message, review: ModelReview, text: str, *, at: datetime) -> None:
    insight_record(
        finding_key=f"llm_review:{message.pk}",
        at=at,
        **_where(message),
        severity=Insight.Severity.SUGGESTION,
        category=Insight.Category.TONE,
        title=f"The model's review scored this text {review.score}",
        description=review.feedback or "The model found this text weak.",
        suggestion="Compare with the suggested text and teach Sophie the better one.",
        original_text=text,
        suggested_text=review.suggested_text or None,
    )


def _staff_edit(message: Message, ai_reply: AiReply, *, at: datetime) -> None:
    """Staff changed Sophie's draft before sending it, or discarded it: teaching material either way."""
    if ai_reply.edited_by_id is None or not ai_reply.original_text:
        return
    who = ai_reply.edited_by.get_full_name() or ai_reply.edited_by.email
    if message.status == Message.Status.CANCELLED:
        insight_record(
            finding_key=f"staff_discard:{message.pk}",
            at=at,
            **_where(message),
            severity=Insight.Severity.SUGGESTION,
            category=Insight.Category.TONE,
            title="Staff discarded Sophie's draft",
            description=f"{who} threw Sophie's draft away instead of sending it.",
            suggestion="Teach Sophie what she should have said (it becomes a good example).",
            original_text=ai_reply.original_text,
        )
        return
    if ai_reply.original_text == message.content:
        return
    insight_record(
        finding_key=f"staff_edit:{message.pk}",
        at=at,
        **_where(message),
        severity=Insight.Severity.SUGGESTION,
        category=Insight.Category.TONE,
        title="Staff rewrote Sophie's draft",
        description=f"{who} changed Sophie's text before sending it.",
        suggestion="Approve to make the sent text a good example Sophie follows next time.",
        original_text=ai_reply.original_text,
        suggested_text=message.content,
    )
