"""The guardrails against the default lessons every client starts with (sophie/defaults.py)."""

import pytest

from sophie.defaults import DEFAULT_LESSONS, KNOWLEDGE_SOLAR
from sophie.guardrails import first_failure, guardrails_check, quoted_phrases
from sophie.llm.base import AgentContext, LeadFacts, LessonView

FIELDS = {
    "{company_name}": "Greenstar Solar",
    "{agent_name}": "Sophie",
    "{booking_link}": "https://cal.com/greenstar/x",
}
# Incorrect responses that describe a bad text instead of being one, or whose claim needs a person to judge
# (whether an accreditation is the client's own is in the knowledge, not in a phrase).
NOT_A_CHECKABLE_TEXT = {
    "Never claim another company's accreditation or trade-body membership",
    "No emoji",
    "Straight quotes and plain characters only",
    "One easy question per message",
    "Short and personal",
    "Hand to a person when unsure",
}
# Every phrase the default never-rules quote: each is banned from every text, so each must be one Sophie
# should never send. A new quote in a default lesson must be added here after that check.
BANNED_BY_QUOTES = {
    "last chance",
    "today only",
    "funding ends soon",
    "limited spaces",
    "up to",
    "pays for itself",
    "you qualify",
    "you'll qualify",
    "you're eligible",
    "are you sure",
}
ORDINARY_REPLIES = [
    "Hi Sarah, it's Sophie at Greenstar Solar. Is solar still on your list?",
    "You asked who this is: it's Sophie at Greenstar Solar, the installer you enquired with.",
    "A typical 3-4 kW system is around £7,000, and panels have 0% VAT until 31 March 2027. Would a call help?",
    "Great, pick a time that suits you here: https://cal.com/greenstar/x",
    "No rush at all. OK if I check back in March?",
    "Sorry to bother you. I've removed your number, you won't hear from Greenstar Solar again.",
    "Thanks, I'll ask one of the team to ring you after 5 today.",
    "Good question. Grant rules change, so one of the team will check what applies and come back to you.",
]


def _fill(text: str) -> str:
    for field, value in FIELDS.items():
        text = text.replace(field, value)
    return text


def default_lessons() -> tuple[LessonView, ...]:
    ordered = sorted(DEFAULT_LESSONS, key=lambda item: -item["priority"])
    return tuple(
        LessonView(
            id=str(index),
            lesson_type=item["lesson_type"],
            title=_fill(item["title"]),
            description=_fill(item["description"]),
            trigger=_fill(item["trigger"]),
            correct_response=_fill(item["correct_response"]),
            incorrect_response=_fill(item["incorrect_response"]),
            priority=item["priority"],
            tags=tuple(item["tags"]),
        )
        for index, item in enumerate(ordered)
    )


LESSONS = default_lessons()


def default_context(new_texts: tuple[str, ...] = ("Yes, still interested",)) -> AgentContext:
    return AgentContext(
        prompt="",
        sections={"knowledge": _fill(KNOWLEDGE_SOLAR)},
        lessons=LESSONS,
        thread=(),
        new_texts=new_texts,
        lead=LeadFacts(first_name="Sarah", status="WARM"),
        company_name=FIELDS["{company_name}"],
        agent_name=FIELDS["{agent_name}"],
        booking_link=FIELDS["{booking_link}"],
    )


@pytest.mark.parametrize("lesson", [item for item in LESSONS if item.lesson_type != "blacklist_word"], ids=str)
def test_every_default_correct_response_passes_every_check(lesson):
    # Asked the lesson's own trigger ("Are you a bot?..." for the automation rule), as a lead would.
    verdicts = guardrails_check(lesson.correct_response, context=default_context((lesson.trigger,)))
    assert first_failure(verdicts) is None, (lesson.title, first_failure(verdicts))


@pytest.mark.parametrize("lesson", [item for item in LESSONS if item.title not in NOT_A_CHECKABLE_TEXT], ids=str)
def test_every_default_incorrect_response_with_a_banned_claim_fails(lesson):
    failure = first_failure(guardrails_check(lesson.incorrect_response, context=default_context()))
    assert failure is not None, lesson.title
    if lesson.lesson_type == "blacklist_word":
        assert failure.name == "blacklist"


@pytest.mark.parametrize(
    ("title", "check"),
    [
        ("Never deny being automated", "human_claim"),
        ("Never promise grant eligibility", "never_rules"),
        ("Never argue with an opt-out or a no", "never_rules"),
        ("Never use fake urgency", "blacklist"),
    ],
)
def test_it_names_the_check_a_default_incorrect_response_fails(title, check):
    lesson = next(item for item in LESSONS if item.title == title)
    assert first_failure(guardrails_check(lesson.incorrect_response, context=default_context())).name == check


def test_the_default_never_rules_quote_only_phrases_sophie_must_never_send():
    quoted = {
        phrase.casefold()
        for item in LESSONS
        if item.lesson_type == "never_rule"
        for phrase in quoted_phrases(item.description) + quoted_phrases(item.trigger)
    }
    assert quoted == BANNED_BY_QUOTES


@pytest.mark.parametrize("text", ORDINARY_REPLIES)
def test_ordinary_replies_pass_the_default_lessons(text):
    verdicts = guardrails_check(text, context=default_context(), previous_text="Is solar still on your list, Sarah?")
    assert first_failure(verdicts) is None, first_failure(verdicts)


def test_the_default_lessons_make_money_amounts_outside_the_knowledge_fail():
    failure = first_failure(guardrails_check("It would be about £4,999 for you.", context=default_context()))
    assert failure.name == "price_promise"
    assert failure.detail == (
        'The text states "£4,999", which is not in the knowledge section ("Never promise savings or returns"): '
        "give no figure the client has not written down."
    )


def test_the_no_emoji_lesson_is_checked_on_the_real_thing():
    assert first_failure(guardrails_check("Thanks Sarah \U0001f60a", context=default_context())).name == "emoji"
