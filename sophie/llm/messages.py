"""The one place an AgentContext becomes what a model reads: a system text and the thread as chat turns.

Both model backends send exactly this, so a prompt or lesson change reaches every provider the same way.
"""

from sophie.llm.base import HANDOFF, SEND, SENTIMENTS, STATUSES, AgentContext, LessonView
from sophie.llm.contract import REFINE_STATUSES

USER, ASSISTANT = "user", "assistant"

_CONTRACT = f"""\
Answer with one JSON object and nothing else, with these fields:
- "action": "{SEND}" to text the lead, or "{HANDOFF}" to hand the conversation to a person (hostility,
  complaints, grants, legal questions, a request for a person, or whenever you are unsure).
- "text": the SMS to send; with "{HANDOFF}", a short polite line for the lead, or "".
- "status": the lead's status after this reply, one of {", ".join(STATUSES)}, or "" for no change.
- "sentiment": one of {", ".join(SENTIMENTS)}, or "".
- "reason": one short line for staff on why you chose this.
- "lessons_used": the ids of the lessons above that shaped the reply, e.g. ["12"], or [].
The text is plain keyboard characters (no emoji, no curly quotes), one SMS of 160 characters where you
can and never more than 320, asks at most one question, and contains no link except the booking link."""


def system_text(context: AgentContext) -> str:
    """The live prompt, then the lessons, the lead, the booking link, the output contract and any retry."""
    parts = [
        context.prompt.strip(),
        _lessons_text(context.lessons),
        _lead_text(context),
        _contract_text(context),
    ]
    if context.retry_because:
        parts.append(
            "Your previous draft was rejected by the checks that run before anything is sent: "
            f"{context.retry_because.strip()} Write a new reply that avoids this, or hand off."
        )
    return "\n\n".join(part for part in parts if part)


def chat_turns(context: AgentContext) -> list[dict]:
    """The thread as alternating user (lead) / assistant (us) turns, starting with the lead, ending with the burst.

    Consecutive texts from one side are joined; our first text (M1) is announced by a short user turn,
    since providers want the lead to speak first.
    """
    turns: list[dict] = []
    for turn in context.thread:
        role = USER if turn.direction == "inbound" else ASSISTANT
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n" + turn.text
        else:
            turns.append({"role": role, "content": turn.text})
    if not turns or turns[-1]["role"] == ASSISTANT:
        burst = "\n".join(context.new_texts).strip()
        turns.append({"role": USER, "content": burst or "(The lead has sent nothing new.)"})
    if turns[0]["role"] == ASSISTANT:
        turns.insert(0, {"role": USER, "content": "(The conversation starts with our first text to the lead.)"})
    return turns


def refine_system_text(classification: dict) -> str:
    return f"""\
You read one SMS reply from a homeowner who once enquired with a UK installer and was texted to ask if
they are still interested. An offline classifier could not tell what it means (its reading: \
{classification.get("intent", "unknown")}, {classification.get("reason", "no reason given")}).
Decide the lead's status: HOT (wants to go ahead or talk), WARM (interested but not now, or asking
questions), COLD (not interested, already sorted, not eligible) or UNCLEAR (you cannot tell either).
Decide the sentiment: {", ".join(SENTIMENTS)}.
Answer with one JSON object and nothing else: {{"status": one of {", ".join(REFINE_STATUSES)}, \
"sentiment": one of {", ".join(SENTIMENTS)}}}."""


def refine_turns(text: str) -> list[dict]:
    return [{"role": USER, "content": text}]


def review_system_text(context: AgentContext) -> str:
    return f"""\
You review one SMS that an automated assistant for {context.company_name}, a UK installer, sent to a
homeowner who once enquired. Judge it as a careful sales manager would: does it answer what the lead
said, is it friendly, honest, short and free of pressure, does it offer one clear next step, and does it
follow the rules below?
{_lessons_text(context.lessons)}
Answer with one JSON object and nothing else: {{"score": a number from 0 (bad) to 1 (excellent), \
"feedback": one sentence for staff, "suggested_text": a better SMS, or "" if it is fine}}."""


def review_turns(text: str, lead_texts: tuple[str, ...]) -> list[dict]:
    said = " / ".join(lead_texts) or "(nothing: our text opened the conversation)"
    return [{"role": USER, "content": f"The lead wrote: {said}\nThe assistant answered: {text}"}]


_LESSON_HEADINGS = (
    ("never_rule", "Never rules (hard limits):"),
    ("blacklist_word", ""),  # the words with what to write instead, below
    ("objection_handling", "How to handle these situations:"),
    ("example_good", "Good examples to follow:"),
    ("example_bad", "Bad examples, never write like this:"),
    ("dos_donts", "Dos and don'ts:"),
    ("best_practice", "Good practice:"),
)


def _lessons_text(lessons: tuple[LessonView, ...]) -> str:
    by_type: dict[str, list[LessonView]] = {}
    for lesson in lessons:
        by_type.setdefault(lesson.lesson_type, []).append(lesson)
    blocks = []
    for lesson_type, heading in _LESSON_HEADINGS:
        group = by_type.pop(lesson_type, [])
        if not group:
            continue
        if lesson_type == "blacklist_word":
            lines = [_blacklist_line(lesson) for lesson in group]
            blocks.append("\n".join([_BLACKLIST_HEADING, *lines]))
            continue
        blocks.append("\n".join([heading, *(_lesson_line(lesson) for lesson in group)]))
    for group in by_type.values():  # a type added later still reaches the model
        blocks.append("\n".join(["Other lessons:", *(_lesson_line(lesson) for lesson in group)]))
    if not blocks:
        return ""
    return "\n\n".join(["Lessons from staff, most important first (ids in brackets):", *blocks])


_BLACKLIST_HEADING = "Never write these words or phrases, in any case, even in a harmless sense:"


def _blacklist_line(lesson: LessonView) -> str:
    instead = f" Instead: {lesson.correct_response}" if lesson.correct_response else ""
    return f'- "{lesson.title}".{instead}'


def _lesson_line(lesson: LessonView) -> str:
    parts = [f"- [{lesson.id}] {lesson.title}."]
    if lesson.description:
        parts.append(lesson.description)
    if lesson.trigger:
        parts.append(f"When: {lesson.trigger}")
    if lesson.correct_response and lesson.lesson_type != "example_bad":
        parts.append(f'Say: "{lesson.correct_response}"')
    if lesson.incorrect_response:
        parts.append(f'Not: "{lesson.incorrect_response}"')
    return " ".join(parts)


def _lead_text(context: AgentContext) -> str:
    lead = context.lead
    lines = [
        "This conversation:",
        f"- You are {context.agent_name} at {context.company_name}.",
        f"- The lead's first name: {lead.first_name}. Their status before this reply: {lead.status or 'none'}.",
    ]
    if lead.enquiry_month:
        lines.append(f"- They enquired in {lead.enquiry_month}.")
    if lead.postcode:
        lines.append(f"- Their postcode: {lead.postcode}.")
    reading = context.classification
    if reading.get("intent"):
        lines.append(
            f"- The offline classifier read their latest texts as {reading['intent']} "
            f"(confidence {reading.get('confidence', '?')}: {reading.get('reason', '')})."
        )
    return "\n".join(lines)


def _contract_text(context: AgentContext) -> str:
    if context.booking_link:
        link = (
            f"The booking link, only for a lead who has said yes to a call, and the only link you may send: "
            f"{context.booking_link}"
        )
    else:
        link = "There is no booking link: offer two time slots for a call instead, and send no link at all."
    return f"{link}\n\n{_CONTRACT}"
