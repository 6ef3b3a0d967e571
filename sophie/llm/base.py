"""What the agent hands an LLM backend and what it gets back: plain data, no models, no network.

Every backend (`rules`, `openai`, `anthropic`) takes one `AgentContext` and returns one `Draft`, or
raises `LLMError` with a reason staff can read. The agent (sophie/agent.py) builds the context from the
database and runs the guardrails on the draft; backends never touch the database.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

SEND, HANDOFF = "send", "handoff"
STATUSES = ("HOT", "WARM", "COLD", "REMOVED", "UNCLEAR")
SENTIMENTS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class Turn:
    """One text of the thread, oldest first."""

    direction: Literal["inbound", "outbound"]
    text: str
    at: datetime


@dataclass(frozen=True)
class LessonView:
    """An active lesson as the agent and the guardrails read it (merge fields already filled)."""

    id: str
    lesson_type: str  # sophie.models.Lesson.Type values: never_rule, blacklist_word, example_good, ...
    title: str
    description: str = ""
    trigger: str = ""
    correct_response: str = ""
    incorrect_response: str = ""
    priority: int = 0
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeadFacts:
    first_name: str  # "there" when unknown
    status: str  # the lead's contact status before this reply
    postcode: str = ""
    enquiry_month: str = ""  # "March 2025", or ""


@dataclass(frozen=True)
class AgentContext:
    """Everything a backend may use to write one reply."""

    prompt: str  # the live prompt, compiled, merge fields filled
    sections: dict[str, str]  # the same prompt by section: context, goal, tone, knowledge, objections, boundaries
    lessons: tuple[LessonView, ...]  # active lessons, highest priority first
    thread: tuple[Turn, ...]  # the whole conversation, oldest first
    new_texts: tuple[str, ...]  # what the lead said since our last text (the burst being answered)
    lead: LeadFacts
    company_name: str
    agent_name: str
    booking_link: str  # "" when the dataset has none
    # The offline classifier's reading of the burst: intent, status, sentiment, confidence, reason.
    classification: dict = field(default_factory=dict)
    # Set on the one regeneration: which guardrail failed on the first draft and why.
    retry_because: str = ""


@dataclass(frozen=True)
class Draft:
    """A backend's answer. `action` is apart from `text`, so a polite hand-off line never hides a hand-off."""

    action: Literal["send", "handoff"]
    text: str
    status: str = ""  # one of STATUSES, or "" for no change
    sentiment: str = ""  # one of SENTIMENTS, or ""
    reason: str = ""
    lessons_used: tuple[str, ...] = ()  # LessonView ids the reply relied on


class LLMError(Exception):
    """The backend could not give a usable draft (timeout, 5xx, 429, refusal, empty or malformed answer).
    `reason` is one line for staff; the agent hands the lead to a person with it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Backend(Protocol):
    name: str  # "rules", "openai", "anthropic"
    model: str  # "" for rules

    def reply(self, context: AgentContext) -> Draft: ...

    def refine(self, text: str, classification: dict) -> dict | None:
        """For a reply the offline classifier left UNCLEAR: {"status": ..., "sentiment": ...}, or None."""
        ...
