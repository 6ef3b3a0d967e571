"""What the agent reads (docs/prompts.md): the live prompt for a dataset and the active lessons, merge fields filled.

`agent_inputs` is the one way in; the smaller functions are what it is built from.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from campaigns import content
from clients.access import current_client
from leads.bookings import lead_booking_link
from leads.models import Dataset, Lead
from leads.selectors import datasets_visible_to
from leads.services import default_template
from sophie.llm.base import LessonView
from sophie.models import Lesson, Prompt, PromptTrial
from sophie.prompts import prompt_default_create, prompt_sections
from sophie.trials import TRIAL, arm_for, trial_running

# The lesson fields that can reach a text, so the ones merge fields are filled in.
_LESSON_TEXT = ("title", "description", "trigger", "correct_response", "incorrect_response")


def prompt_live_for(*, dataset: Dataset | None, at: datetime | None = None) -> Prompt:
    """The dataset's live prompt, else the client default's; never None.

    A client without a default (a row deleted by hand) gets one made here from the system template:
    the agent must always have a prompt. `at` is when that repair happens (default: now).
    """
    if dataset is not None:
        own = Prompt.objects.filter(dataset=dataset, is_live=True).first()
        if own is not None:
            return own
    default = Prompt.objects.filter(dataset__isnull=True, is_live=True).first()
    return default or prompt_default_create(at=at or timezone.now())


def prompts_visible_to(user) -> QuerySet[Prompt]:
    """Prompt versions a user may read: the client default's chain and the chains of datasets they may see."""
    return Prompt.objects.filter(Q(dataset__isnull=True) | Q(dataset__in=datasets_visible_to(user)))


def lessons_active() -> list[Lesson]:
    """Active lessons, highest priority first (then oldest first, so the order is stable)."""
    return list(Lesson.objects.filter(status=Lesson.Status.ACTIVE).order_by("-priority", "created_at", "pk"))


@dataclass(frozen=True)
class MergeValues:
    """What {company_name}, {agent_name} and {booking_link} stand for in one dataset's prompt and lessons."""

    company_name: str
    agent_name: str
    booking_link: str

    def fill(self, text: str | None) -> str:
        # The cadence's own merge-field rendering (no lead: prompts and lessons use only these three).
        return content.render(
            text or "",
            lead=None,
            company_name=self.company_name,
            agent_name=self.agent_name,
            booking_link=self.booking_link,
        )


def merge_values_for(*, dataset: Dataset | None, lead: Lead | None = None) -> MergeValues:
    """The client's name and the dataset's settings (its template's, or the default template's, until it
    has its own), as the cadence fills them; for texts to a `lead`, the booking link is the lead's own
    short link (docs/bookings.md)."""
    options = (dataset.campaign_settings if dataset is not None else None) or default_template()
    cal_link = (options.cal_booking_link if options else "") or ""
    return MergeValues(
        company_name=current_client().company_name,
        agent_name=(options.agent_name if options else "") or content.DEFAULT_AGENT_NAME,
        booking_link=lead_booking_link(lead=lead, cal_link=cal_link) if lead is not None else cal_link,
    )


def lesson_views(lessons: Iterable[Lesson], *, fill: Callable[[str | None], str]) -> tuple[LessonView, ...]:
    """The lessons as the agent and guardrails read them, merge fields filled, in the order given."""
    return tuple(
        LessonView(
            id=str(lesson.pk),
            lesson_type=lesson.lesson_type,
            priority=lesson.priority,
            tags=tuple(lesson.tags or ()),
            **{name: fill(getattr(lesson, name)) for name in _LESSON_TEXT},
        )
        for lesson in lessons
    )


@dataclass(frozen=True)
class AgentInputs:
    """The prompt and lessons for one reply: the row (for AiReply), its text filled, and the lessons."""

    prompt: Prompt
    text: str  # compiled, merge fields filled
    sections: dict[str, str]
    lessons: tuple[LessonView, ...]
    values: MergeValues
    trial: PromptTrial | None = None  # the dataset's running trial, if any
    arm: str = ""  # the lead's arm in it ("trial" or "control"), "" without a lead or a trial


def agent_inputs(*, dataset: Dataset | None, at: datetime, lead: Lead | None = None) -> AgentInputs:
    """THE selector the agent reads its prompt and lessons through (docs/prompts.md); with a `lead`, filled
    for a text to that lead, and with the trial version when the lead's conversation is in a trial's arm."""
    prompt = prompt_live_for(dataset=dataset, at=at)
    trial = trial_running(dataset=dataset)
    arm = arm_for(trial=trial, lead=lead) if trial is not None and lead is not None else ""
    if arm == TRIAL:
        prompt = trial.candidate
    values = merge_values_for(dataset=dataset, lead=lead)
    return AgentInputs(
        prompt=prompt,
        text=values.fill(prompt.compiled_prompt),
        sections={name: values.fill(text) for name, text in prompt_sections(prompt.prompt_structure or {}).items()},
        lessons=lesson_views(lessons_active(), fill=values.fill),
        values=values,
        trial=trial,
        arm=arm,
    )
