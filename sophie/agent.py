"""What Sophie says: one function from a lead to a checked result.

context (live prompt, active lessons, the thread, lead facts, booking link) → LLM backend → guardrails →
one regeneration told which guardrail failed → else hand-off. Nothing here sends or saves: the caller
(sophie/writing.py) does, so the agent can be run on any lead (the benchmark does) without side effects.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from campaigns import content
from campaigns.models import Message
from leads.models import Dataset, Lead
from sophie.classify import classify
from sophie.guardrails import first_failure, guardrails_check
from sophie.llm import backend_get
from sophie.llm.base import HANDOFF, SEND, AgentContext, Backend, Draft, LeadFacts, LLMError, Turn
from sophie.models import Prompt
from sophie.prompts import prompt_compile, prompt_sections
from sophie.selectors import agent_inputs, lesson_views, lessons_active, merge_values_for

SHOWN = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.UNDELIVERED, Message.Status.RECEIVED)
IN_FLIGHT = (Message.Status.PENDING, Message.Status.SENDING, Message.Status.UNKNOWN)


@dataclass(frozen=True)
class AgentResult:
    action: str  # send | handoff
    text: str  # what to send ("" when nothing may go)
    status: str
    sentiment: str
    reason: str
    lessons_used: tuple[str, ...]
    attempts: list[dict] = field(default_factory=list)  # each try: text, action, guardrail verdicts, error
    regenerated: bool = False
    backend: str = ""
    model: str = ""
    prompt: Prompt | None = None
    answered_up_to: object = None  # the newest lead text this answer read (writing checks nothing came after)


def agent_reply(*, lead: Lead, at: datetime, backend: Backend | None = None) -> AgentResult:
    """Writes the reply to everything the lead said since our last text, checked by every guardrail."""
    backend = backend or backend_get()
    context, prompt, newest, previous = context_build(lead=lead, at=at)
    return agent_answer(context, backend=backend, previous=previous, prompt=prompt, answered_up_to=newest)


def agent_answer(
    context: AgentContext, *, backend: Backend, previous: str = "", prompt: Prompt | None = None, answered_up_to=None
) -> AgentResult:
    """The backend and the guardrails on one context: a draft, one regeneration told which guardrail failed,
    else a hand-off. Pure apart from the backend call (the prompt wizard previews through it)."""
    base = {"backend": backend.name, "model": backend.model, "prompt": prompt, "answered_up_to": answered_up_to}
    attempts: list[dict] = []
    for _ in range(2):  # one regeneration, told which guardrail failed
        if attempts:
            context = replace(context, retry_because=attempts[-1]["failed"])
        try:
            draft = backend.reply(context)
        except LLMError as exc:
            attempts.append({"error": exc.reason, "failed": exc.reason})
            return _handoff(f"The model gave no usable answer: {exc.reason}", attempts, context, **base)
        text, failed = _checked(draft, context, previous, attempts)
        if draft.action == HANDOFF:
            # A polite line may go with a hand-off, but only if it passes every guardrail too.
            reason = draft.reason or "The model handed the lead to a person"
            return _result(HANDOFF, "" if failed else text, draft, reason, attempts, **base)
        if not failed:
            return _result(SEND, text, draft, draft.reason, attempts, **base)
    return _handoff(f"Failed a guardrail twice: {attempts[-1]['failed']}", attempts, context, **base)


def _checked(draft: Draft, context: AgentContext, previous: str, attempts: list[dict]) -> tuple[str, str]:
    """The draft's text in GSM-7 and the first guardrail it fails ("" if none); the attempt is recorded."""
    text = content.to_gsm7((draft.text or "").strip())
    verdicts = guardrails_check(text, context=context, previous_text=previous) if text else []
    failed = first_failure(verdicts)
    problem = failed.detail if failed else ("" if text or draft.action == HANDOFF else "the reply was empty")
    attempts.append(
        {
            "action": draft.action,
            "text": text,
            "guardrails": [{"name": v.name, "passed": v.passed, "detail": v.detail} for v in verdicts],
            "failed": problem,
        }
    )
    return text, problem


def _result(action: str, text: str, draft: Draft, reason: str, attempts: list[dict], **base) -> AgentResult:
    return AgentResult(
        action,
        text,
        draft.status,
        draft.sentiment,
        reason,
        tuple(draft.lessons_used),
        attempts,
        regenerated=len(attempts) > 1,
        **base,
    )


def context_build(*, lead: Lead, at: datetime) -> tuple[AgentContext, Prompt, object, str]:
    """The agent's context for this lead, the prompt it came from, the newest lead text it covers, and our
    previous text (the repeat guardrail compares with it)."""
    inputs = agent_inputs(dataset=lead.dataset, at=at, lead=lead)
    messages = list(
        Message.objects.filter(lead=lead, status__in=[*SHOWN, *IN_FLIGHT])
        .order_by("created_at")
        .values("direction", "content", "sent_at", "created_at", "id")
    )
    thread = tuple(Turn(m["direction"], m["content"], m["sent_at"] or m["created_at"]) for m in messages)
    last_ours = max((i for i, m in enumerate(messages) if m["direction"] == Message.Direction.OUTBOUND), default=-1)
    new = [m for m in messages[last_ours + 1 :] if m["direction"] == Message.Direction.INBOUND]
    burst = " ".join(m["content"] for m in new)
    context = AgentContext(
        prompt=inputs.text,
        sections=inputs.sections,
        lessons=inputs.lessons,
        thread=thread,
        new_texts=tuple(m["content"] for m in new),
        lead=LeadFacts(
            first_name=(lead.first_name or "").strip() or content.FIRST_NAME_FALLBACK,
            status=lead.contact_status,
            postcode=lead.postcode or "",
            enquiry_month=content.render("{enquiry_month}", lead=lead, company_name=""),
        ),
        company_name=inputs.values.company_name,
        agent_name=inputs.values.agent_name,
        booking_link=inputs.values.booking_link,
        classification=classify(burst).to_dict() if burst else {},
    )
    previous = messages[last_ours]["content"] if last_ours >= 0 else ""
    return context, inputs.prompt, (new[-1]["id"] if new else None), previous


def _handoff(reason: str, attempts: list[dict], context: AgentContext, **base) -> AgentResult:
    reading = context.classification or {}
    return AgentResult(
        HANDOFF,
        "",
        reading.get("status", ""),
        reading.get("sentiment", ""),
        reason,
        (),
        attempts,
        regenerated=len(attempts) > 1,
        **base,
    )


# Three replies staff see Sophie answer before saving a prompt: a yes with a question, a no, and a "who?".
PREVIEW_REPLIES = (
    "Yes still interested, how much would it cost roughly?",
    "No thanks, we already had panels fitted last year",
    "Who is this? How did you get my number?",
)


def agent_preview(
    *,
    structure: dict,
    dataset: Dataset | None,
    at: datetime,
    replies: tuple[str, ...] = PREVIEW_REPLIES,
    backend: Backend | None = None,
) -> list[tuple[str, AgentResult]]:
    """How a prompt not yet saved would answer sample replies: the active lessons and the dataset's merge
    values as for a real reply, the real backend and guardrails, a made-up lead; nothing is written."""
    backend = backend or backend_get()
    values = merge_values_for(dataset=dataset)
    sections = {name: values.fill(text) for name, text in prompt_sections(structure).items()}
    lessons = lesson_views(lessons_active(), fill=values.fill)
    opener = values.fill(
        "Hi Sam, it's {agent_name} from {company_name}. You asked us about a quote a while back: still of interest?"
    )
    results = []
    for reply in replies:
        context = AgentContext(
            prompt=values.fill(prompt_compile(structure)),
            sections=sections,
            lessons=lessons,
            thread=(Turn("outbound", opener, at), Turn("inbound", reply, at)),
            new_texts=(reply,),
            lead=LeadFacts(first_name="Sam", status="UNCLEAR"),
            company_name=values.company_name,
            agent_name=values.agent_name,
            booking_link=values.booking_link,
            classification=classify(reply).to_dict(),
        )
        results.append((reply, agent_answer(context, backend=backend, previous=opener)))
    return results
