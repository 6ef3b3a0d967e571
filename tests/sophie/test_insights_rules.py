"""Each insight rule with a failing and a passing example (pure functions: no database)."""

from decimal import Decimal

import pytest

from sophie.insights.rules import (
    MessageFacts,
    check_blacklist,
    check_emoji,
    check_hot_without_link,
    check_never_rules,
    check_opt_out_line,
    check_pushy,
    check_repetition,
    check_segments,
    check_unasked_answer,
    rules_check,
    rules_score,
)
from sophie.llm.base import AgentContext, LeadFacts, LessonView

LESSONS = (
    LessonView(id="1", lesson_type="blacklist_word", title="guarantee"),
    LessonView(id="2", lesson_type="never_rule", title="No grant promises", description='Never say "fully funded".'),
)
LINK = "https://cal.com/alpha/call"


def facts(text, *, lead_texts=("yes please",), earlier=(), status="WARM", kind="reply", link=LINK) -> MessageFacts:
    context = AgentContext(
        prompt="",
        sections={},
        lessons=LESSONS,
        thread=(),
        new_texts=lead_texts,
        lead=LeadFacts(first_name="Sam", status=status),
        company_name="Alpha Solar",
        agent_name="Sophie",
        booking_link=link,
    )
    return MessageFacts(text, kind, status, tuple(lead_texts), tuple(earlier), context)


@pytest.mark.parametrize(
    ("rule", "bad", "good"),
    [
        (check_emoji, facts("Great news 😀 when suits?"), facts("Great news, when suits?")),
        (check_blacklist, facts("We guarantee savings"), facts("Most homes save on bills")),
        (check_never_rules, facts("It is fully funded for you"), facts("Some homes qualify for help")),
        (check_segments, facts("word " * 80), facts("Short and clear.")),
        (
            check_repetition,
            facts("Would Tuesday at 10 work for a call?", earlier=("Would Tuesday at 10 work for a call?",)),
            facts("Would Thursday suit instead?", earlier=("Would Tuesday at 10 work for a call?",)),
        ),
        (
            check_hot_without_link,
            facts("Brilliant, someone will be in touch.", status="HOT"),
            facts(f"Brilliant, pick a time here: {LINK}", status="HOT"),
        ),
        (
            check_opt_out_line,
            facts("Hi Sam, still thinking about solar?", kind="M1"),
            facts("Hi Sam, still thinking about solar? Reply STOP to opt out.", kind="M1"),
        ),
        (check_pushy, facts("Last chance, act now before it's too late!"), facts("Whenever suits you, Sam.")),
        (
            check_unasked_answer,
            facts("A typical system costs around £7,000.", lead_texts=("is it a local company?",)),
            facts("A typical system costs around £7,000.", lead_texts=("how much does it cost?",)),
        ),
    ],
)
def test_it_fails_the_bad_text_and_passes_the_good_one(rule, bad, good):
    finding = rule(bad)

    assert finding is not None and finding.title and finding.description and finding.suggestion
    assert rule(good) is None


def test_it_skips_the_opt_out_line_for_sophies_replies():
    assert check_opt_out_line(facts("Sure, what day suits?", kind="reply")) is None


def test_it_needs_no_link_when_the_dataset_has_none():
    assert check_hot_without_link(facts("Brilliant, we will call.", status="HOT", link="")) is None


def test_it_scores_a_clean_text_one_and_takes_off_by_severity():
    assert rules_score(rules_check(facts("Sure, what day suits you best?"))) == Decimal("1")
    bad = rules_check(facts("We guarantee it, act now 😀"))

    assert {f.rule for f in bad} == {"emoji", "blacklist", "pushy"}
    assert rules_score(bad) == Decimal("0")  # 0.3 + 0.5 + 0.3 off, never below 0
