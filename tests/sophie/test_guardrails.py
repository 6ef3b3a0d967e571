"""The guardrails every AI text passes before it is sent: pure, no database."""

import time

import pytest

from sophie import guardrails
from sophie.guardrails import Verdict, first_failure, guardrails_check
from sophie.llm.base import AgentContext, LeadFacts, LessonView

BOOKING = "https://cal.com/greenstar/survey"
KNOWLEDGE = "- A typical 3-4 kW home system costs around £7,000. Panels have 0% VAT until 31 March 2027, then 5%."


def lesson(lesson_type: str, title: str, description: str = "", trigger: str = "", tags=()) -> LessonView:
    return LessonView(
        id=title, lesson_type=lesson_type, title=title, description=description, trigger=trigger, tags=tuple(tags)
    )


LESSONS = (
    lesson(
        "never_rule",
        "Never use fake urgency",
        "No 'last chance', 'today only' or \"limited spaces\".",
        tags=["urgency"],
    ),
    lesson("never_rule", "Never promise savings or returns", "Never 'pays for itself'.", tags=["savings", "price"]),
    lesson("never_rule", "Never argue with a no", "No 'are you sure'.", trigger='A reply to a no, "before you go".'),
    lesson("blacklist_word", "free"),
    lesson("blacklist_word", "up to"),
    lesson("dos_donts", "No emoji", "Never use 'emoji' or smileys."),
)


def context(*, lessons=LESSONS, new_texts=("Yes, still interested",), booking_link=BOOKING, knowledge=KNOWLEDGE):
    return AgentContext(
        prompt="",
        sections={"knowledge": knowledge},
        lessons=lessons,
        thread=(),
        new_texts=tuple(new_texts),
        lead=LeadFacts(first_name="Sarah", status="WARM"),
        company_name="Greenstar Solar",
        agent_name="Sophie",
        booking_link=booking_link,
    )


def check(name: str, text: str, previous_text: str = "", **context_args) -> Verdict:
    verdict = getattr(guardrails, f"check_{name}")(text, context(**context_args), previous_text)
    assert verdict.name == name
    assert verdict.passed == (verdict.detail == "")
    return verdict


# --- blacklist ---


@pytest.mark.parametrize("text", ["Free survey for you, Sarah", "We can FREE up a slot", "Save up  to 70%"])
def test_it_fails_a_blacklisted_word_in_any_case(text):
    verdict = check("blacklist", text)
    assert not verdict.passed
    assert verdict.detail.startswith("The text contains the blacklisted ")


def test_it_names_the_blacklisted_word_in_the_detail():
    assert check("blacklist", "Get it free, Sarah.").detail == 'The text contains the blacklisted word "free".'
    assert check("blacklist", "Up to you!").detail == 'The text contains the blacklisted phrase "up to".'


@pytest.mark.parametrize("text", ["Is your freezer full?", "Set up today?", "Freedom from bills", "uptown"])
def test_it_passes_words_that_only_contain_a_blacklisted_word(text):
    assert check("blacklist", text).passed


# --- never_rules ---


@pytest.mark.parametrize("text", ["Last chance, Sarah", "TODAY ONLY", "limited   spaces", "It pays for itself"])
def test_it_fails_a_phrase_quoted_in_a_never_rule(text):
    verdict = check("never_rules", text)
    assert not verdict.passed
    assert "which the rule" in verdict.detail


def test_it_bans_phrases_quoted_in_the_trigger_too():
    assert check("never_rules", "Before you go, Sarah").detail == (
        'The text contains "before you go", which the rule "Never argue with a no" forbids.'
    )


def test_it_passes_text_without_a_quoted_phrase():
    assert check("never_rules", "No rush at all. Is solar still on your list?").passed


def test_it_reads_only_quotes_in_never_rules_not_other_lessons():
    assert check("never_rules", "No emoji here").passed  # 'emoji' is quoted in a dos_donts lesson


def test_it_takes_apostrophes_for_apostrophes_not_quotes():
    assert guardrails.quoted_phrases("Savings depend on the household's own usage; don't say 'up to'.") == ["up to"]
    assert guardrails.quoted_phrases("Never 'you'll qualify' or \u2018today only\u2019 or “act now”.") == [
        "you'll qualify",
        "today only",
        "act now",
    ]
    assert guardrails.quoted_phrases("Twilio's keywords, the lead's 'no' and ' ' and '...'") == ["no"]


# --- price_promise ---


@pytest.mark.parametrize("text", ["It costs £4,999.", "You could save 70% on bills", "About 5k pounds", "£7,001"])
def test_it_fails_a_money_amount_or_percentage_that_the_knowledge_does_not_give(text):
    verdict = check("price_promise", text)
    assert not verdict.passed
    assert "not in the knowledge section" in verdict.detail


@pytest.mark.parametrize("text", ["Typically around £7,000.", "About 7k pounds", "0% VAT, then 5 per cent"])
def test_it_passes_amounts_from_the_knowledge_section(text):
    assert check("price_promise", text).passed


def test_it_checks_amounts_only_when_a_never_rule_is_tagged_price_or_savings():
    others = [item for item in LESSONS if not {"price", "savings"} & set(item.tags)]
    assert check("price_promise", "Save 70% with us", lessons=others).passed


def test_it_reads_amounts_in_any_common_form():
    found = guardrails.money_amounts("£7,000 or 7k pounds, $50, 9.9% APR, 70 per cent, 3-4 kW, 25 years")
    assert [written for written, _ in found] == ["£7,000", "7k pounds", "$50", "9.9%", "70 per cent"]
    assert found[0][1] == found[1][1]


# --- emoji ---


@pytest.mark.parametrize("text", ["Thanks Sarah \U0001f60a", "Great \u2600\ufe0f", "Done \u2714", "\u2764 it"])
def test_it_fails_emoji_and_pictographs(text):
    verdict = check("emoji", text)
    assert not verdict.passed
    assert "emoji or symbol" in verdict.detail


def test_it_passes_curly_quotes_dashes_and_accents_which_are_normalised_not_failed():
    assert check("emoji", "It\u2019s Sophie \u2013 \u201cno rush\u201d\u2026 Zo\u00eb, caf\u00e9, \u20ac5").passed


# --- segments ---


def test_it_fails_a_text_over_two_segments():
    verdict = check("segments", "word " * 70)
    assert not verdict.passed
    assert verdict.detail.startswith("The text is 3 SMS segments")


@pytest.mark.parametrize("text", ["", "   \n "])
def test_it_fails_an_empty_text(text):
    assert check("segments", text).detail == "The text is empty."


def test_it_passes_two_full_segments_and_counts_curly_quotes_as_plain():
    assert check("segments", "x" * 306).passed
    assert check("segments", "\u2019" * 306).passed  # 306 apostrophes once normalised, not 306 UCS-2 characters
    assert not check("segments", "x" * 307).passed


# --- links ---


@pytest.mark.parametrize(
    "text",
    [
        "Book here: https://example.com/book",
        "See example.com/x",
        "Visit www.greenstar.example",
        "greenstar.co.uk has it",
        f"Try {BOOKING}/extra",
        "Go to HTTP://CAL.COM/other",
    ],
)
def test_it_fails_any_link_but_the_booking_link(text):
    verdict = check("links", text)
    assert not verdict.passed
    assert f"the only link allowed is the booking link {BOOKING}" in verdict.detail


@pytest.mark.parametrize("text", [f"Pick a time: {BOOKING}", f"Here ({BOOKING}).", "Email me at sophie@greenstar.com"])
def test_it_passes_the_booking_link_and_plain_text(text):
    assert check("links", text).passed


def test_it_passes_no_link_at_all_when_the_dataset_has_no_booking_link():
    assert check("links", "e.g. 3.5 kW, i.e. small. Sarah.How are you", booking_link="").passed
    verdict = check("links", f"Book: {BOOKING}", booking_link="")
    assert (
        verdict.detail == f'The text contains the link "{BOOKING}"; this dataset has no booking link, so send no link.'
    )


# --- repeat ---


@pytest.mark.parametrize(
    "text", ["Is solar still on your list?", "is solar  still on your list?", "Is solar still on your list."]
)
def test_it_fails_a_text_that_repeats_our_previous_one(text):
    verdict = check("repeat", text, previous_text="Is solar still on your list?")
    assert verdict.detail == "The text repeats our previous message; say something new or hand to a person."


def test_it_passes_a_new_text_or_a_first_one():
    assert check("repeat", "Would a quick call help?", previous_text="Is solar still on your list?").passed
    assert check("repeat", "Is solar still on your list?", previous_text="").passed


# --- human_claim ---


@pytest.mark.parametrize(
    "text",
    [
        "Yes, I'm a real person here in the office.",
        "I am human, promise",
        "No, I\u2019m not a bot",
        "I'm not an AI, it's Sophie",
        "Don't worry, this is a real person",
        "im a real person",
        "You're talking to a real person",
    ],
)
def test_it_fails_a_claim_to_be_human(text):
    verdict = check("human_claim", text)
    assert not verdict.passed
    assert verdict.detail.startswith("The text claims to be a person")


@pytest.mark.parametrize("asked", ["Are you a bot?", "r u a robot", "Is this a real person?", "am i talking to AI"])
def test_it_fails_a_reply_to_are_you_a_bot_that_does_not_say_it_is_automated(asked):
    verdict = check("human_claim", "It's Sophie at Greenstar Solar. Would a call help?", new_texts=("hi", asked))
    assert "asked whether this is automated" in verdict.detail


@pytest.mark.parametrize(
    "text",
    ["I'm an automated assistant for Greenstar Solar.", "I'm Sophie, Greenstar's AI assistant.", "It's automated."],
)
def test_it_passes_an_honest_answer_to_are_you_a_bot(text):
    assert check("human_claim", text, new_texts=("Are you a bot?",)).passed


def test_it_passes_offering_a_real_person_when_nobody_asked():
    text = "Happy to get a real person from the team to ring you, Sarah."
    assert check("human_claim", text, new_texts=("Can someone call me after 5?",)).passed


# --- all together ---


def test_it_runs_every_check_in_a_fixed_order():
    verdicts = guardrails_check(f"Hi Sarah, pick a time here: {BOOKING}", context=context())
    assert [verdict.name for verdict in verdicts] == [
        "blacklist",
        "never_rules",
        "price_promise",
        "emoji",
        "segments",
        "links",
        "repeat",
        "human_claim",
    ]
    assert all(verdict.passed for verdict in verdicts)
    assert first_failure(verdicts) is None


def test_it_gives_the_first_failure_in_that_order():
    verdicts = guardrails_check("Last chance \U0001f600 www.x.com", context=context(), previous_text="hi")
    failed = [verdict.name for verdict in verdicts if not verdict.passed]
    assert failed == ["never_rules", "emoji", "links"]
    assert first_failure(verdicts).name == "never_rules"
    assert first_failure(verdicts).to_dict() == {
        "name": "never_rules",
        "passed": False,
        "detail": 'The text contains "last chance", which the rule "Never use fake urgency" forbids.',
    }


def test_it_follows_a_change_in_the_lessons():
    assert check("blacklist", "A quick survey").passed
    more = (*LESSONS, lesson("blacklist_word", "survey"))
    assert not check("blacklist", "A quick survey", lessons=more).passed


def test_it_accepts_lessons_in_a_list_with_list_tags():
    lessons = [
        LessonView(id="1", lesson_type="never_rule", title="No promises", description="No 'promise'.", tags=["price"])
    ]
    verdicts = guardrails_check("I promise it's £5", context=context(lessons=lessons))
    assert [verdict.name for verdict in verdicts if not verdict.passed] == ["never_rules", "price_promise"]


def test_it_checks_a_text_in_microseconds():
    from tests.sophie.test_guardrails_defaults import default_context

    ctx = default_context()
    text = (
        "Hi Sarah, it's Sophie at Greenstar Solar. Savings depend on your own bills; a typical system is around "
        "£7,000. Would a quick call help?"
    )
    guardrails_check(text, context=ctx, previous_text="Is solar still on your list?")
    runs = 200
    started = time.perf_counter()
    for _ in range(runs):
        guardrails_check(text, context=ctx, previous_text="Is solar still on your list?")
    each = (time.perf_counter() - started) / runs
    assert each < 0.001, f"{each * 1e6:.0f} us a text"
