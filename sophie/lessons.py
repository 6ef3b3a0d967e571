"""Lessons: what staff teach Sophie (docs/learning.md). The one write path for pages, admin and API, the
library's search, the "test this lesson" preview, and each lesson's figures computed from `AiReply` rows.

A lesson is applied when an `AiReply` lists it in `lessons_used`; it succeeded when the lead's next text
after that AI message was neither negative nor an opt-out (`AiReply.lead_outcome`). `times_applied` and
`success_rate` on the row are only a cache of those counts, refreshed whenever either changes.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from campaigns import content
from campaigns.models import Message
from clients.models import User
from clients.roles import Action, require
from sophie.classify import classify
from sophie.guardrails import first_failure, guardrails_check, quoted_phrases
from sophie.llm import backend_get
from sophie.llm.base import AgentContext, Backend, LeadFacts, LessonView, Turn
from sophie.models import AiReply, Lesson
from sophie.selectors import agent_inputs, lesson_views

TITLE_MAX = 200
TEXT_MAX = 5_000
PRIORITY_RANGE = (-100, 100)
TEXT_FIELDS = ("description", "trigger", "correct_response", "incorrect_response", "reasoning")
EDITABLE = ("lesson_type", "title", *TEXT_FIELDS, "example_conversation", "tags", "priority", "status")
GOOD, BAD = "good", "bad"  # AiReply.lead_outcome


class LessonRefused(Exception):
    """Why a lesson could not be saved or changed, in one sentence for the person who tried."""


# --- Writing ------------------------------------------------------------------------------------


def lesson_clean(fields: dict) -> dict:
    """The fields as they are stored (text stripped, tags lower-case and unique), or LessonRefused."""
    cleaned = dict(fields)
    kind = cleaned.get("lesson_type")
    if kind not in Lesson.Type.values:
        raise LessonRefused(f"Choose a lesson type: {', '.join(label for _, label in Lesson.Type.choices)}.")
    title = " ".join(str(cleaned.get("title") or "").split())
    if not title:
        if kind == Lesson.Type.BLACKLIST_WORD:
            raise LessonRefused("A blacklisted word cannot be empty or only spaces: write the word or phrase.")
        raise LessonRefused("A lesson needs a title.")
    if len(title) > TITLE_MAX:
        raise LessonRefused(f"The title is {len(title)} characters; keep it to {TITLE_MAX}.")
    cleaned["title"] = title
    for name in TEXT_FIELDS:
        text = str(cleaned.get(name) or "").strip()
        if len(text) > TEXT_MAX:
            label = Lesson._meta.get_field(name).verbose_name
            raise LessonRefused(f"The {label} is {len(text)} characters; keep it to {TEXT_MAX}.")
        cleaned[name] = text or None
    if kind == Lesson.Type.BLACKLIST_WORD and not any(char.isalnum() for char in title):
        raise LessonRefused("A blacklisted word needs at least one letter or digit.")
    if kind in (Lesson.Type.OBJECTION_HANDLING, Lesson.Type.EXAMPLE_GOOD) and not cleaned["correct_response"]:
        raise LessonRefused("This kind of lesson needs the answer Sophie should give (the correct response).")
    if kind == Lesson.Type.EXAMPLE_BAD and not cleaned["incorrect_response"]:
        raise LessonRefused("A bad example needs the text Sophie should not send (the incorrect response).")
    cleaned["tags"] = tags_clean(cleaned.get("tags") or [])
    cleaned["priority"] = _priority(cleaned.get("priority", 0))
    status = cleaned.get("status") or Lesson.Status.ACTIVE
    if status not in Lesson.Status.values:
        raise LessonRefused("The status must be active, testing or archived.")
    cleaned["status"] = status
    cleaned["example_conversation"] = example_conversation_clean(cleaned.get("example_conversation"))
    return cleaned


def tags_clean(tags: Iterable[str] | str) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    seen: dict[str, None] = {}
    for tag in tags:
        tag = "_".join(str(tag).strip().lower().split())
        if tag:
            seen.setdefault(tag[:50])
    return list(seen)


def _priority(value) -> int:
    try:
        number = int(str("" if value is None else value).strip() or 0)
    except ValueError:
        raise LessonRefused("The priority must be a whole number.") from None
    low, high = PRIORITY_RANGE
    if not low <= number <= high:
        raise LessonRefused(f"The priority must be between {low} and {high}.")
    return number


def example_conversation_clean(value) -> list[dict] | None:
    """An example conversation as a list of {"from": "lead"|"sophie", "text": ...}; text as "Lead: ..." lines
    or JSON is accepted too."""
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except ValueError:
                raise LessonRefused("The example conversation is not valid JSON.") from None
        else:
            value = [_turn_from_line(line) for line in stripped.splitlines() if line.strip()]
    if not isinstance(value, list) or not all(isinstance(turn, dict) for turn in value):
        raise LessonRefused('The example conversation must be lines like "Lead: ..." and "Sophie: ...".')
    turns = []
    for turn in value:
        speaker = str(turn.get("from") or turn.get("role") or "").strip().lower()
        text = str(turn.get("text") or turn.get("content") or "").strip()
        if speaker not in ("lead", "sophie") or not text:
            raise LessonRefused('Each line of the example conversation starts with "Lead:" or "Sophie:" and has text.')
        turns.append({"from": speaker, "text": text[:TEXT_MAX]})
    return turns


def _turn_from_line(line: str) -> dict:
    speaker, _, text = line.partition(":")
    return {"from": speaker, "text": text}


def example_conversation_text(turns: list[dict] | None) -> str:
    return "\n".join(f"{turn['from'].capitalize()}: {turn['text']}" for turn in turns or [])


def lesson_create(
    *,
    actor: User | None,
    fields: dict,
    source: str = Lesson.Source.USER_TAUGHT,
    source_message: Message | None = None,
) -> Lesson:
    """A new lesson; `actor` None only for the platform itself (defaults, imports)."""
    if actor is not None:
        require(actor, Action.EDIT_LESSONS)
    cleaned = lesson_clean({name: fields.get(name) for name in EDITABLE})
    return Lesson.objects.create(
        **cleaned,
        source=source,
        source_message=source_message,
        created_by=actor if actor is not None and actor.pk else None,
    )


@transaction.atomic
def lesson_update(*, lesson: Lesson, actor: User, fields: dict) -> Lesson:
    """Changes what staff may change; figures and source stay as they are."""
    require(actor, Action.EDIT_LESSONS)
    lesson = Lesson.objects.select_for_update().get(pk=lesson.pk)
    current = {name: getattr(lesson, name) for name in EDITABLE}
    cleaned = lesson_clean({**current, **{name: value for name, value in fields.items() if name in EDITABLE}})
    for name, value in cleaned.items():
        setattr(lesson, name, value)
    lesson.save()
    return lesson


@transaction.atomic
def lesson_archive(*, lesson: Lesson, actor: User) -> Lesson:
    """Sophie stops using it at her next reply; it stays in the library (and in past replies' records)."""
    require(actor, Action.EDIT_LESSONS)
    lesson = Lesson.objects.select_for_update().get(pk=lesson.pk)
    if lesson.status == Lesson.Status.ARCHIVED:
        raise LessonRefused(f"“{lesson.title}” is already archived.")
    lesson.status = Lesson.Status.ARCHIVED
    lesson.save(update_fields=["status", "updated_at"])
    return lesson


# --- Reading ------------------------------------------------------------------------------------

SEARCH_VECTOR = SearchVector("title", "description", config="english")  # the expression of idx_lessons_search


def lessons_find(*, q: str = "", lesson_type: str = "", tag: str = "", status: str = "") -> QuerySet[Lesson]:
    """The library, filtered: full-text search over title and description (the GIN index), type, tag and
    status (archived lessons only when asked for); best match first, else highest priority."""
    lessons = Lesson.objects.all()
    if lesson_type in Lesson.Type.values:
        lessons = lessons.filter(lesson_type=lesson_type)
    if tag.strip():
        lessons = lessons.filter(tags__contains=tags_clean([tag]))
    if status in Lesson.Status.values:
        lessons = lessons.filter(status=status)
    elif status != "all":
        lessons = lessons.exclude(status=Lesson.Status.ARCHIVED)
    query = " ".join(q.split())[:200]
    if query:
        search = SearchQuery(query, config="english", search_type="websearch")
        lessons = (
            lessons.annotate(search=SEARCH_VECTOR, rank=SearchRank(SEARCH_VECTOR, search))
            .filter(search=search)
            .order_by("-rank", "-priority", "title")
        )
        return lessons
    return lessons.order_by("-priority", "title")


def lesson_tags() -> list[str]:
    """Every tag in use, for the filter."""
    tags = Lesson.objects.exclude(status=Lesson.Status.ARCHIVED).values_list("tags", flat=True)
    return sorted({tag for row in tags for tag in row})


# --- Figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LessonFigures:
    applied: int  # AI messages that listed the lesson
    answered: int  # of those, the ones the lead has answered since
    good: int  # answers neither negative nor an opt-out

    @property
    def success_rate(self) -> Decimal | None:
        return (Decimal(self.good) / Decimal(self.answered)).quantize(Decimal("0.01")) if self.answered else None


def lesson_figures(lesson_id) -> LessonFigures:
    row = AiReply.objects.filter(lessons_used__contains=[lesson_id]).aggregate(
        applied=Count("pk"),
        answered=Count("pk", filter=Q(lead_outcome__in=[GOOD, BAD])),
        good=Count("pk", filter=Q(lead_outcome=GOOD)),
    )
    return LessonFigures(**row)


def lessons_figures_refresh(lesson_ids: Iterable) -> None:
    """Recomputes the cached `times_applied` and `success_rate` of these lessons from the AiReply rows."""
    for lesson_id in {str(pk) for pk in lesson_ids if pk}:
        figures = lesson_figures(lesson_id)
        Lesson.objects.filter(pk=lesson_id).update(times_applied=figures.applied, success_rate=figures.success_rate)


def ai_reply_outcome_record(*, inbound: Message, opted_out: bool, sentiment: str) -> AiReply | None:
    """The lead answered: if our text just before it was Sophie's, that AI message's outcome is known now,
    and the figures of the lessons it used change. Only the first answer counts."""
    before = (
        Message.objects.filter(lead_id=inbound.lead_id, direction=Message.Direction.OUTBOUND, sent_at__isnull=False)
        .filter(sent_at__lte=inbound.sent_at or inbound.created_at)
        .order_by("-sent_at")
        .first()
    )
    if before is None or not before.ai_generated:
        return None
    outcome = BAD if opted_out or (sentiment or "").lower() == "negative" else GOOD
    ai_reply = AiReply.objects.filter(message=before, lead_outcome="").first()
    if ai_reply is None:
        return None
    if not AiReply.objects.filter(pk=ai_reply.pk, lead_outcome="").update(lead_outcome=outcome):
        return None  # another worker recorded the same answer
    ai_reply.lead_outcome = outcome
    lessons_figures_refresh(ai_reply.lessons_used)
    return ai_reply


# --- Trying a lesson ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LessonTrial:
    """What "test this lesson" shows: does it fire on the sample, and what would Sophie say with it."""

    sample: str
    matched: bool
    why: str
    action: str = ""
    text: str = ""
    used: bool = False  # the answer lists this lesson in its lessons_used
    reason: str = ""
    guardrail: str = ""  # the first guardrail the answer fails, "" when it passes them all
    error: str = ""
    lessons_used: tuple[str, ...] = field(default_factory=tuple)


def lesson_trigger_match(lesson: Lesson, sample: str) -> tuple[bool, str]:
    """Whether a lesson applies to a lead's text, and why: the reading's intent among its tags (how the
    rules backend picks a lesson), a quoted phrase of its trigger in the text, or all the trigger's words."""
    reading = classify(sample)
    folded = " ".join(content.to_gsm7(sample).casefold().split())
    if reading.intent in (lesson.tags or []):
        return True, f"The reply reads as “{reading.intent}”, one of the lesson's tags."
    trigger = (lesson.trigger or "").strip()
    for phrase in quoted_phrases(trigger):
        if phrase.casefold() in folded:
            return True, f"The reply contains “{phrase}” from the trigger."
    words = [word for word in trigger.casefold().replace(",", " ").split() if len(word) > 3]
    if words and all(word in folded for word in words):
        return True, "The reply contains every word of the trigger."
    if lesson.lesson_type in (Lesson.Type.BLACKLIST_WORD, Lesson.Type.NEVER_RULE):
        return True, "Blacklisted words and never-rules apply to every text Sophie writes."
    tags = ", ".join(lesson.tags or []) or "none"
    return False, f"The reply reads as “{reading.intent}”; the lesson's tags are: {tags}, and its trigger is not in it."


def lesson_try(*, lesson: Lesson, sample: str, at: datetime, backend: Backend | None = None) -> LessonTrial:
    """Runs the agent's backend on one made-up reply with the live client prompt, the active lessons and this
    one (even if archived or testing), then the guardrails. Nothing is saved or sent."""
    sample = " ".join((sample or "").split())[:1000]
    if not sample:
        raise LessonRefused("Write a sample reply from a lead to test the lesson against.")
    matched, why = lesson_trigger_match(lesson, sample)
    inputs = agent_inputs(dataset=None, at=at)
    own = lesson_views([lesson], fill=inputs.values.fill)
    others = tuple(view for view in inputs.lessons if view.id != str(lesson.pk))
    lessons = tuple(sorted(own + others, key=lambda view: -view.priority))
    context = _sample_context(inputs, lessons, sample, at)
    backend = backend or backend_get()
    try:
        draft = backend.reply(context)
    except Exception as error:  # an LLMError or an unreachable model: shown, never a 500
        return LessonTrial(sample, matched, why, error=getattr(error, "reason", str(error)))
    text = content.to_gsm7((draft.text or "").strip())
    failed = first_failure(guardrails_check(text, context=context)) if text else None
    return LessonTrial(
        sample,
        matched,
        why,
        action=draft.action,
        text=text,
        used=str(lesson.pk) in draft.lessons_used,
        reason=draft.reason,
        guardrail=failed.detail if failed else "",
        lessons_used=tuple(draft.lessons_used),
    )


def _sample_context(inputs, lessons: tuple[LessonView, ...], sample: str, at: datetime) -> AgentContext:
    return AgentContext(
        prompt=inputs.text,
        sections=inputs.sections,
        lessons=lessons,
        thread=(Turn("inbound", sample, at),),
        new_texts=(sample,),
        lead=LeadFacts(first_name="Sam", status="CONTACTED_1"),
        company_name=inputs.values.company_name,
        agent_name=inputs.values.agent_name,
        booking_link=inputs.values.booking_link,
        classification=classify(sample).to_dict(),
    )
