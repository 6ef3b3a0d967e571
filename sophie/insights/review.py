"""The review queue (Sophie › Insights): one service per staff action, used by the pages, the admin and the
API alike, and the one way insights are written.

An open insight (pending or viewed) is unique on its `finding_key`, so a finding found again updates the
one in the queue instead of listing it twice. Approving and teaching make a lesson; the insight keeps who
did it and when, and a second approval is refused rather than making a second lesson.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils.timezone import localtime

from campaigns.models import Message
from campaigns.selectors import conversations_visible_to, messages_visible_to
from clients.models import User
from clients.roles import Action, require
from leads.selectors import datasets_visible_to
from sophie.lessons import LessonRefused, lesson_create
from sophie.models import Insight, Lesson

QUIET_AFTER_CLOSING = timedelta(days=7)  # a finding staff closed is not raised again for a week


class InsightRefused(Exception):
    """Why a review action could not be done, in one sentence for the person who tried."""


# --- Writing insights ------------------------------------------------------------------------------


def insight_record(*, finding_key: str, at: datetime, **fields) -> Insight | None:
    """Opens an insight, or refreshes the open one with the same finding; None when staff closed the same
    finding less than a week ago (they have seen it)."""
    with transaction.atomic():
        open_one = Insight.objects.select_for_update().filter(finding_key=finding_key, status__in=Insight.OPEN).first()
        if open_one is not None:
            for name, value in fields.items():
                setattr(open_one, name, value)
            open_one.save()
            return open_one
        if Insight.objects.filter(finding_key=finding_key, reviewed_at__gte=at - QUIET_AFTER_CLOSING).exists():
            return None
        try:
            with transaction.atomic():
                return Insight.objects.create(finding_key=finding_key, **fields)
        except IntegrityError:  # another worker opened it a moment ago
            return Insight.objects.get(finding_key=finding_key, status__in=Insight.OPEN)


# --- Staff actions -------------------------------------------------------------------------------


def insight_view(*, insight: Insight, actor: User, at: datetime) -> None:
    """Someone opened it: pending becomes viewed (nothing else changes)."""
    Insight.objects.filter(pk=insight.pk, status=Insight.Status.PENDING).update(status=Insight.Status.VIEWED)


def _claim(insight: Insight, actor: User) -> Insight:
    """The insight locked for one review; refused when someone reviewed it already."""
    require(actor, Action.EDIT_LESSONS)
    insight = Insight.objects.select_for_update(of=("self",)).select_related("reviewed_by").get(pk=insight.pk)
    if insight.status not in Insight.OPEN:
        reviewer = insight.reviewed_by
        who = (reviewer.get_full_name() or reviewer.email) if reviewer else "someone"
        when = localtime(insight.reviewed_at).strftime("%-d %b %Y %H:%M") if insight.reviewed_at else "earlier"
        raise InsightRefused(
            f"This insight was already reviewed ({insight.get_status_display().lower()}) by {who} on {when}; "
            "nothing was changed."
        )
    return insight


def _close(insight: Insight, *, status: str, actor: User, at: datetime, lesson=None, feedback: str = "") -> None:
    insight.status, insight.reviewed_by, insight.reviewed_at = status, actor, at
    insight.related_lesson = lesson or insight.related_lesson
    insight.user_feedback = feedback.strip()[:2000] or insight.user_feedback
    insight.save()
    if insight.message_id:
        feedback_status = {
            Insight.Status.APPROVED_AND_LEARNED: Message.FeedbackStatus.APPROVED,
            Insight.Status.TAUGHT_SOPHIE: Message.FeedbackStatus.IMPROVED,
            Insight.Status.DISMISSED: Message.FeedbackStatus.DISMISSED,
        }[status]
        Message.objects.filter(pk=insight.message_id).update(ai_feedback_status=feedback_status, updated_at=at)


@transaction.atomic
def insight_approve(*, insight: Insight, actor: User, at: datetime, fields: dict | None = None) -> Lesson:
    """Approve and learn: a lesson from the insight (prefilled, as staff edited it) and the insight closed."""
    insight = _claim(insight, actor)
    lesson = _lesson(insight, actor, fields or lesson_prefill(insight), Lesson.Source.SOPHIE_SUGGESTION)
    _close(insight, status=Insight.Status.APPROVED_AND_LEARNED, actor=actor, at=at, lesson=lesson)
    return lesson


@transaction.atomic
def insight_teach(*, insight: Insight, actor: User, at: datetime, should_have_said: str, title: str = "") -> Lesson:
    """Teach Sophie: staff write what she should have said; it becomes a good example for the same trigger."""
    insight = _claim(insight, actor)
    said = (should_have_said or "").strip()
    if not said:
        raise InsightRefused("Write what Sophie should have said.")
    prefill = lesson_prefill(insight)
    fields = {
        **prefill,
        "lesson_type": Lesson.Type.EXAMPLE_GOOD,
        "title": title.strip() or prefill["title"],
        "correct_response": said,
        "incorrect_response": insight.original_text or prefill.get("incorrect_response"),
    }
    lesson = _lesson(insight, actor, fields, Lesson.Source.USER_TAUGHT)
    _close(insight, status=Insight.Status.TAUGHT_SOPHIE, actor=actor, at=at, lesson=lesson, feedback=said)
    return lesson


@transaction.atomic
def insight_dismiss(*, insight: Insight, actor: User, at: datetime, feedback: str = "") -> Insight:
    insight = _claim(insight, actor)
    _close(insight, status=Insight.Status.DISMISSED, actor=actor, at=at, feedback=feedback)
    return insight


def _lesson(insight: Insight, actor: User, fields: dict, source: str) -> Lesson:
    try:
        return lesson_create(actor=actor, fields=fields, source=source, source_message=insight.message)
    except LessonRefused as refused:
        raise InsightRefused(str(refused)) from None


# What kind of lesson a finding teaches by default (staff may change it on the form).
_LESSON_TYPE = {
    "blacklist": Lesson.Type.EXAMPLE_BAD,
    "never_rules": Lesson.Type.EXAMPLE_BAD,
    "emoji": Lesson.Type.DOS_DONTS,
    "segments": Lesson.Type.DOS_DONTS,
    "pushy": Lesson.Type.EXAMPLE_BAD,
    "repetition": Lesson.Type.EXAMPLE_BAD,
    "unasked_answer": Lesson.Type.EXAMPLE_BAD,
    "hot_without_link": Lesson.Type.BEST_PRACTICE,
    "staff_edit": Lesson.Type.EXAMPLE_GOOD,
    "llm_review": Lesson.Type.DOS_DONTS,
}


def lesson_prefill(insight: Insight) -> dict:
    """The lesson an insight suggests: its type, title, the texts and the trigger (the lead's words)."""
    rule = insight.finding_key.partition(":")[0]
    kind = _LESSON_TYPE.get(rule, Lesson.Type.BEST_PRACTICE)
    if kind == Lesson.Type.EXAMPLE_BAD and not insight.original_text:
        kind = Lesson.Type.BEST_PRACTICE
    if kind == Lesson.Type.EXAMPLE_GOOD and not (insight.suggested_text or "").strip():
        kind = Lesson.Type.BEST_PRACTICE
    return {
        "lesson_type": kind,
        "title": insight.title[:200],
        "description": "\n\n".join(part for part in (insight.description, insight.suggestion) if part),
        "trigger": _lead_text_before(insight.message) if insight.message_id else "",
        "correct_response": insight.suggested_text or "",
        "incorrect_response": insight.original_text or "",
        "reasoning": insight.suggestion or "",
        "tags": [insight.category] if insight.category else [],
        "priority": 0,
        "status": Lesson.Status.ACTIVE,
    }


def _lead_text_before(message: Message) -> str:
    before = (
        Message.objects.filter(lead_id=message.lead_id, direction=Message.Direction.INBOUND)
        .filter(created_at__lte=message.created_at)
        .order_by("-created_at")
        .values_list("content", flat=True)
        .first()
    )
    return (before or "")[:500]


# --- Reading the queue ---------------------------------------------------------------------------

STATUS_FILTERS = {
    "open": Q(status__in=Insight.OPEN),
    "closed": ~Q(status__in=Insight.OPEN),
    **{status: Q(status=status) for status in Insight.Status.values},
}


def insights_visible_to(user: User) -> QuerySet[Insight]:
    """Insights about leads, conversations and datasets the user may see (a rep: their leads only)."""
    return Insight.objects.filter(
        Q(message__isnull=True) | Q(message__in=messages_visible_to(user)),
        Q(conversation__isnull=True) | Q(conversation__in=conversations_visible_to(user)),
        Q(dataset__isnull=True) | Q(dataset__in=datasets_visible_to(user)),
    )


def insight_for(user: User, pk) -> Insight:
    return get_object_or_404(insights_visible_to(user), pk=pk)


def insights_find(
    *, user: User, status: str = "open", category: str = "", severity: str = "", insight_type: str = "", q: str = ""
) -> QuerySet[Insight]:
    """The queue, filtered; most severe first, then newest."""
    insights = insights_visible_to(user).select_related(
        "dataset", "related_lesson", "reviewed_by", "message__lead", "conversation__lead"
    )
    insights = insights.filter(STATUS_FILTERS.get(status, STATUS_FILTERS["open"]))
    if category in Insight.Category.values:
        insights = insights.filter(category=category)
    if severity in Insight.Severity.values:
        insights = insights.filter(severity=severity)
    if insight_type in Insight.Type.values:
        insights = insights.filter(insight_type=insight_type)
    query = " ".join(q.split())[:200]
    if query:
        insights = insights.filter(Q(title__icontains=query) | Q(description__icontains=query))
    rank = {"critical": 0, "warning": 1, "suggestion": 2, "info": 3}
    order = Case(*(When(severity=k, then=Value(v)) for k, v in rank.items()), output_field=IntegerField())
    return insights.annotate(severity_rank=order).order_by("severity_rank", "-created_at")
