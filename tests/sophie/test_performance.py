"""Performance per version (sophie/performance.py) against a fixture whose figures are worked out by hand,
and the statistics it uses."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.models import Conversation, Message
from leads.models import Lead, LeadEvent
from sophie.models import AiReply, Prompt
from sophie.performance import (
    MIN_SAMPLE,
    Rate,
    prompt_metrics_cache,
    prompt_performance,
    two_proportion_z,
    wilson_interval,
)
from sophie.prompts import prompt_default_create, prompt_for_dataset_create, prompt_go_live, prompt_sections_save
from tests.campaigns.helpers import campaign_dataset

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def text(lead, conversation, direction, at, *, status=None, sentiment=None, content="hello") -> Message:
    return Message.objects.create(
        lead=lead,
        conversation=conversation,
        direction=direction,
        content=content,
        status=status or ("received" if direction == "inbound" else "delivered"),
        sent_at=at if direction == "outbound" else None,
        created_at=at,
        classification={"sentiment": sentiment} if sentiment else None,
        ai_generated=direction == "outbound" and content.startswith("AI"),
    )


def ai_text(prompt, lead, conversation, at, *, action="send", status="delivered") -> Message:
    message = text(lead, conversation, "outbound", at, status=status, content="AI text")
    AiReply.objects.create(message=message, prompt=prompt, backend="rules", action=action, written_at=at, created_at=at)
    return message


def event(lead, kind, at, **data):
    LeadEvent.objects.create(lead=lead, event_type=kind, data=data, created_at=at)


@pytest.fixture
def version(alpha, owner) -> Prompt:
    """Ten conversations written by one version; the figures below are counted by hand in each comment."""
    Prompt.objects.all().delete()
    prompt_default_create(at=T0)
    dataset = campaign_dataset(name="Perf", leads=10)
    prompt = prompt_go_live(prompt=prompt_for_dataset_create(dataset=dataset, actor=owner, at=T0), actor=owner, at=T0)
    other = prompt_sections_save(base=prompt, contents={"tone": "Other."}, why="", actor=owner, at=T0)
    leads = list(Lead.objects.filter(dataset=dataset).order_by("phone_number"))
    sentiments = ["positive", "positive", "positive", "neutral", "neutral", "negative"]
    for i, lead in enumerate(leads):
        conversation = Conversation.objects.create(lead=lead, dataset=dataset, started_at=T0)
        text(lead, conversation, "outbound", minutes(0), content="M1 cadence text")
        text(lead, conversation, "inbound", minutes(10), sentiment="positive")
        ai_text(prompt, lead, conversation, minutes(20))  # ten AI texts that went out
        if i < 6:  # leads 0-5 answer it: 6 replies; sentiment +1+1+1+0+0-1 = 2 over 6
            text(lead, conversation, "inbound", minutes(30), sentiment=sentiments[i])
        if i == 6:  # a second text, unanswered: 11 texts in all
            ai_text(prompt, lead, conversation, minutes(40))
        if i == 7:  # this version handed lead 7 over (the hand-off row has no text that went out)
            ai_text(prompt, lead, conversation, minutes(50), action="handoff", status="cancelled")
        if i == 9:  # a text that never went (cancelled) is not a text the lead saw
            ai_text(prompt, lead, conversation, minutes(60), status="cancelled")
        if i == 0:  # another version's text, later, is not this version's
            ai_text(other, lead, conversation, minutes(70))
            text(lead, conversation, "inbound", minutes(80), sentiment="negative")
    event(leads[0], "call_booked", minutes(90))  # booked after the version's first text: counts
    event(leads[1], "call_booked", minutes(95))  # counts
    event(leads[2], "call_booked", minutes(5))  # before the version wrote: does not count
    event(leads[5], "suppressed", minutes(35), source="opt_out")  # opted out: counts
    event(leads[8], "suppressed", minutes(35), source="import")  # an imported list is not an opt-out
    return prompt


def test_it_computes_each_figure_from_messages_events_and_ai_replies(version):
    perf = prompt_performance(prompt=version)

    assert (perf.conversations, perf.ai_texts) == (10, 11)
    assert (perf.reply_rate.successes, perf.reply_rate.n) == (6, 11)
    assert (perf.booking_rate.successes, perf.booking_rate.n) == (2, 10)
    assert (perf.opt_out_rate.successes, perf.opt_out_rate.n) == (1, 10)
    assert (perf.handoff_rate.successes, perf.handoff_rate.n) == (1, 10)
    assert perf.sentiment_n == 6 and perf.avg_sentiment == pytest.approx(2 / 6)


def test_below_the_minimum_a_rate_is_not_enough_data(version):
    perf = prompt_performance(prompt=version)

    assert perf.reply_rate.n < MIN_SAMPLE and not perf.reply_rate.enough
    assert perf.vs_previous is None


def test_the_metric_columns_are_only_a_cache_of_the_selector(version):
    prompt_metrics_cache(prompt=version, performance=prompt_performance(prompt=version))

    version.refresh_from_db()
    assert version.conversations_count == 10
    assert float(version.booking_rate) == 0.2 and float(version.avg_sentiment_score) == 0.33


def test_a_version_with_no_conversations_has_zero_everything(alpha, owner):
    Prompt.objects.all().delete()
    perf = prompt_performance(prompt=prompt_default_create(at=T0))

    assert (perf.conversations, perf.ai_texts, perf.reply_rate.value, perf.avg_sentiment) == (0, 0, None, None)


def test_the_wilson_interval_matches_the_textbook_values():
    # 6 of 11 at 95%: centre (6/11 + z²/22) / (1 + z²/11), worked out by hand with z = 1.96.
    low, high = wilson_interval(6, 11)
    assert (round(low, 3), round(high, 3)) == (0.280, 0.787)
    assert wilson_interval(0, 10)[0] == 0.0 and round(wilson_interval(0, 10)[1], 3) == 0.278
    assert wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert Rate(6, 11).interval == wilson_interval(6, 11)


def test_the_two_proportion_z_test_matches_a_worked_example():
    # 60/200 against 40/200: pooled 0.25, se sqrt(0.25*0.75*(2/200)) = 0.0433, z = 0.1/0.0433 = 2.309.
    z, p = two_proportion_z(60, 200, 40, 200)
    assert round(z, 3) == 2.309 and round(p, 4) == 0.0209
    assert two_proportion_z(0, 0, 1, 10) is None
    assert two_proportion_z(5, 5, 5, 5) is None
    assert math.isclose(two_proportion_z(40, 200, 60, 200)[0], -z)


def test_going_live_keeps_the_replaced_version_s_figures_on_the_record(version, owner):
    from sophie.models import PromptVersion

    newer = prompt_sections_save(base=version, contents={"tone": "Newer."}, why="", actor=owner, at=T0)
    prompt_go_live(prompt=newer, actor=owner, at=minutes(200))

    record = PromptVersion.objects.get(prompt=newer, changes__type="went_live")
    assert record.performance_before["conversations"] == 10
    assert record.performance_before["reply_rate"]["successes"] == 6
    version.refresh_from_db()
    assert version.conversations_count == 10  # the cache refreshed as it stopped
