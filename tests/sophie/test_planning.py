"""Planned replies: one per burst, moved by later texts, kept to the window and quiet hours, and never
planned for a lead Sophie must leave alone. The clock is injected everywhere."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.models import Conversation, Message
from campaigns.schedule import in_quiet_hours, is_open, window_from_settings
from clients.models import Client
from leads.models import CampaignSettings, Dataset, Lead
from sophie.planning import reply_due_in_window, silence_reason
from tests.campaigns.helpers import campaign_dataset, text_received, text_via_webhook

# A Tuesday in winter (UTC = London): 10:00 is inside the default window, 22:30 in quiet hours.
TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _lead(**settings) -> Lead:
    dataset = campaign_dataset(name="Planning", leads=1, **settings)
    return Lead.objects.get(dataset=dataset)


def _texted(lead: Lead, body: str, at: datetime, capture) -> Message:
    with capture(execute=True):
        text_received(lead.phone_number, body, at=at)
    return Message.objects.filter(lead=lead, direction="inbound").latest("created_at")


def _planned(lead: Lead):
    return list(Message.objects.filter(lead=lead, status__in=["scheduled", "draft"]))


def test_it_plans_one_reply_at_the_first_text_plus_the_delay(alpha, django_capture_on_commit_callbacks):
    lead = _lead(ai_response_delay_seconds=90)

    _texted(lead, "yes please", TUESDAY, django_capture_on_commit_callbacks)

    [reply] = _planned(lead)
    assert reply.status == "scheduled" and reply.ai_generated and reply.content == ""
    assert reply.due_at == TUESDAY + timedelta(seconds=90)
    assert reply.to_number == lead.phone_number and reply.message_type == "reply"


def test_it_moves_the_reply_for_each_later_text_of_the_burst(alpha, django_capture_on_commit_callbacks):
    lead = _lead(ai_response_delay_seconds=60, ai_multiple_messages_wait_seconds=120)

    _texted(lead, "yes", TUESDAY, django_capture_on_commit_callbacks)
    _texted(lead, "how much is it", TUESDAY + timedelta(seconds=30), django_capture_on_commit_callbacks)
    _texted(lead, "and do you do batteries", TUESDAY + timedelta(seconds=100), django_capture_on_commit_callbacks)

    [reply] = _planned(lead)
    assert reply.due_at == TUESDAY + timedelta(seconds=220)


def test_it_never_moves_a_reply_earlier(alpha, django_capture_on_commit_callbacks):
    lead = _lead(ai_response_delay_seconds=600, ai_multiple_messages_wait_seconds=10)

    _texted(lead, "yes", TUESDAY, django_capture_on_commit_callbacks)
    _texted(lead, "how much", TUESDAY + timedelta(seconds=5), django_capture_on_commit_callbacks)

    [reply] = _planned(lead)
    assert reply.due_at == TUESDAY + timedelta(seconds=600)


def test_it_adds_a_random_delay_when_asked(alpha, django_capture_on_commit_callbacks):
    lead = _lead(ai_response_delay_seconds=60, ai_response_delay_random=True)

    _texted(lead, "yes please", TUESDAY, django_capture_on_commit_callbacks)

    [reply] = _planned(lead)
    assert TUESDAY + timedelta(seconds=60) <= reply.due_at <= TUESDAY + timedelta(seconds=360)


def test_it_plans_nothing_for_an_auto_reply(alpha, django_capture_on_commit_callbacks):
    lead = _lead()

    with django_capture_on_commit_callbacks(execute=True):
        text_received(lead.phone_number, "Out of office: back Monday", at=TUESDAY)

    assert _planned(lead) == []


@pytest.mark.parametrize(
    "silence, expected",
    [
        (lambda lead: Lead.objects.filter(pk=lead.pk).update(manual_mode=True), "manual mode"),
        (lambda lead: Lead.objects.filter(pk=lead.pk).update(contact_status="CALL_BOOKED"), "call is booked"),
        (lambda lead: Lead.objects.filter(pk=lead.pk).update(contact_status="REMOVED"), "removed"),
        (
            lambda lead: CampaignSettings.objects.filter(datasets__leads=lead).update(ai_mode="off"),
            "AI replies are off",
        ),
        (lambda lead: Client.objects.filter(schema_name="alpha").update(sophie_enabled=False), "switched off"),
        (
            lambda lead: Conversation.objects.filter(lead=lead).update(handoff_at=TUESDAY, handoff_reason="grant"),
            "handed to a person",
        ),
    ],
)
def test_it_stays_silent(alpha, silence, expected):
    lead = _lead()
    Conversation.objects.create(lead=lead, dataset=lead.dataset)
    silence(lead)
    alpha.refresh_from_db()
    lead.refresh_from_db()

    assert expected in silence_reason(lead=lead, at=TUESDAY)


def test_it_stays_silent_after_a_staff_message_of_the_last_24_hours(alpha, owner):
    lead = _lead()
    conversation = Conversation.objects.create(lead=lead, dataset=lead.dataset)
    Message.objects.create(
        conversation=conversation, lead=lead, content="Hi, Jo here", direction="outbound", status="sent", sent_by=owner
    )

    assert "a person texted" in silence_reason(lead=lead, at=TUESDAY)
    assert silence_reason(lead=lead, at=TUESDAY + timedelta(days=2)) == ""


def test_it_stays_silent_once_the_per_lead_cap_is_reached(alpha):
    lead = _lead(ai_max_messages_per_lead=2)
    conversation = Conversation.objects.create(lead=lead, dataset=lead.dataset)
    for n in range(2):
        Message.objects.create(
            conversation=conversation,
            lead=lead,
            content=f"ai {n}",
            direction="outbound",
            status="sent",
            ai_generated=True,
        )

    assert "the limit is 2" in silence_reason(lead=lead, at=TUESDAY)


def test_a_silenced_lead_gets_no_plan_and_loses_the_planned_one(alpha, django_capture_on_commit_callbacks):
    lead = _lead()
    _texted(lead, "yes please", TUESDAY, django_capture_on_commit_callbacks)
    Lead.objects.filter(pk=lead.pk).update(manual_mode=True)

    _texted(lead, "hello?", TUESDAY + timedelta(seconds=20), django_capture_on_commit_callbacks)

    assert _planned(lead) == []
    cancelled = Message.objects.get(lead=lead, status="cancelled")
    assert "manual mode" in cancelled.error_message


def test_an_opt_out_cancels_the_planned_reply(alpha, django_capture_on_commit_callbacks):
    lead = _lead()
    _texted(lead, "yes please", TUESDAY, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        text_via_webhook(lead.phone_number, "STOP", at=TUESDAY + timedelta(seconds=20))

    assert _planned(lead) == []
    assert Message.objects.filter(lead=lead, status="cancelled", ai_generated=True).count() == 1


def test_strict_schedule_moves_the_reply_into_the_window(alpha):
    lead = _lead(respect_schedule_strictly=True, sending_hours_start="09:00", sending_hours_end="17:00")
    options = lead.dataset.campaign_settings
    evening = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)

    due = reply_due_in_window(options=options, lead=lead, due=evening, last_text=evening)

    assert due == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_quiet_hours_hold_a_reply_unless_it_answers_within_30_minutes(alpha):
    lead = _lead()
    options = lead.dataset.campaign_settings
    night = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)

    soon = reply_due_in_window(options=options, lead=lead, due=night + timedelta(minutes=5), last_text=night)
    late = reply_due_in_window(options=options, lead=lead, due=night + timedelta(minutes=45), last_text=night)

    assert soon == night + timedelta(minutes=5)
    assert late == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=3 * 3600), min_size=1, max_size=6),
    delay=st.integers(min_value=0, max_value=900),
    wait=st.integers(min_value=0, max_value=600),
    start_minute=st.integers(min_value=0, max_value=24 * 60 - 1),
)
def test_a_burst_never_gets_two_replies_and_a_held_reply_never_lands_in_quiet_hours(
    alpha, django_capture_on_commit_callbacks, gaps, delay, wait, start_minute
):
    Dataset.objects.filter(name="Planning").delete()  # hypothesis runs every example in one test transaction
    lead = _lead(ai_response_delay_seconds=delay, ai_multiple_messages_wait_seconds=wait)
    at = datetime(2026, 12, 1, tzinfo=UTC) + timedelta(minutes=start_minute)
    arrivals = []
    for gap in gaps:
        at += timedelta(seconds=gap)
        arrivals.append(at)
        _texted(lead, "yes tell me more", at, django_capture_on_commit_callbacks)

    planned = _planned(lead)
    assert len(planned) == 1
    due = planned[0].due_at
    assert due >= arrivals[0] + timedelta(seconds=delay)
    if len(arrivals) > 1:
        assert due >= arrivals[-1] + timedelta(seconds=wait)
    if in_quiet_hours(due, ZoneInfo("Europe/London")):
        assert due - arrivals[-1] <= timedelta(minutes=30)


EVENTS = st.lists(
    st.tuples(st.sampled_from(["text", "manual_on", "manual_off"]), st.integers(min_value=0, max_value=2 * 3600)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS, strict=st.booleans(), start_minute=st.integers(min_value=0, max_value=7 * 24 * 60 - 1))
def test_never_a_reply_while_silenced_and_never_outside_the_window_when_held(
    alpha, django_capture_on_commit_callbacks, events, strict, start_minute
):
    Dataset.objects.filter(name="Planning").delete()
    lead = _lead(
        respect_schedule_strictly=strict, sending_hours_start="09:00", sending_hours_end="17:00",
        ai_response_delay_seconds=120,
    )  # fmt: skip
    window = window_from_settings(lead.dataset.campaign_settings)
    at = datetime(2026, 11, 30, tzinfo=UTC) + timedelta(minutes=start_minute)
    for kind, gap in events:
        at += timedelta(seconds=gap)
        if kind != "text":
            Lead.objects.filter(pk=lead.pk).update(manual_mode=kind == "manual_on")
            continue
        with django_capture_on_commit_callbacks(execute=True):
            text_received(lead.phone_number, "yes tell me more", at=at)
        planned = _planned(lead)
        assert len(planned) <= 1
        if Lead.objects.get(pk=lead.pk).manual_mode:
            assert planned == []  # silenced: nothing planned, and what was planned is cancelled
        elif strict:
            assert len(planned) == 1 and is_open(window, planned[0].due_at)
