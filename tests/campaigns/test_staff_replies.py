"""Staff replies: through the outbox and the real Twilio SDK, held by quiet hours, refused with the reason."""

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.cadence import cadence_run_in_process
from campaigns.models import Message
from campaigns.outbox.claim import message_claim
from campaigns.outbox.queue import message_queue
from campaigns.outbox.send import message_send
from campaigns.replies import ReplyRefused, reply_timing_note, staff_reply_send
from clients.models import User
from leads.models import CampaignSettings, Lead, Suppression
from tests.campaigns.helpers import NUMBER, campaign_dataset, text_received

HOST = {"HTTP_HOST": "alpha.localhost"}
HTMX = {**HOST, "HTTP_HX_REQUEST": "true"}
# Europe/London is on GMT in January: local time equals UTC.
MORNING = datetime(2026, 1, 13, 10, 0, tzinfo=UTC)
NIGHT = datetime(2026, 1, 13, 22, 0, tzinfo=UTC)
NEXT_08 = datetime(2026, 1, 14, 8, 0, tzinfo=UTC)
OTHER_NUMBER = "+447700900888"


@pytest.fixture
def lead(alpha) -> Lead:
    dataset = campaign_dataset(name="Replies", leads=1)
    return Lead.objects.select_related("dataset__campaign_settings").get(dataset=dataset)


def _lead_texts(lead: Lead, body: str, at: datetime, to: str = NUMBER) -> Message:
    return text_received(lead.phone_number, body, at=at, to=to).message


def _reload(lead: Lead) -> Lead:
    return Lead.objects.select_related("dataset__campaign_settings").get(pk=lead.pk)


# --- Sending ---------------------------------------------------------------------------------


def test_it_sends_through_twilio_recorded_as_a_staff_reply(lead, owner, fake_twilio):
    _lead_texts(lead, "How much for a 3 bed semi?", MORNING - timedelta(minutes=5))

    reply = staff_reply_send(lead=_reload(lead), text="Hi, about £6k. Can I call you?", user=owner, at=MORNING)
    outcome = message_send(message_id=reply.message.pk, at=MORNING)

    message = Message.objects.get(pk=reply.message.pk)
    [received] = fake_twilio.messages
    assert outcome.word == "sent" and reply.held_until is None
    assert (message.status, message.twilio_sid) == ("sent", received["sid"])
    assert (message.message_type, message.ai_generated, message.sent_by) == ("reply", False, owner)
    assert (received["to"], received["from"], received["body"]) == (lead.phone_number, NUMBER, message.content)
    assert f"message={message.pk}" in received["status_callback"]


def test_it_is_sent_at_most_once(lead, owner, sms_outbox):
    reply = staff_reply_send(lead=lead, text="Hello", user=owner, at=MORNING)

    words = [message_send(message_id=reply.message.pk, at=MORNING).word for _ in range(2)]

    assert words == ["sent", "not pending"]
    assert len(sms_outbox.messages) == 1


def test_it_goes_from_the_number_the_lead_last_texted(lead, owner):
    campaign_dataset(name="Other", leads=0, twilio_number=OTHER_NUMBER)  # makes OTHER_NUMBER one of ours
    _lead_texts(lead, "Yes", MORNING - timedelta(hours=2))
    _lead_texts(lead, "Still there?", MORNING - timedelta(hours=1), to=OTHER_NUMBER)

    reply = staff_reply_send(lead=_reload(lead), text="Yes, sorry!", user=owner, at=MORNING)

    assert reply.message.from_number == OTHER_NUMBER


def test_without_a_text_from_the_lead_it_goes_from_the_datasets_number(lead, owner):
    reply = staff_reply_send(lead=lead, text="Hello", user=owner, at=MORNING)

    assert reply.message.from_number == NUMBER


def test_it_normalises_smart_quotes_to_gsm7(lead, owner):
    reply = staff_reply_send(lead=lead, text="  It\u2019s \u201cfine\u201d  ", user=owner, at=MORNING)

    assert reply.message.content == 'It\'s "fine"'


# --- Manual mode -----------------------------------------------------------------------------


def test_it_turns_on_manual_mode(lead, owner):
    staff_reply_send(lead=lead, text="Hello", user=owner, at=MORNING)

    lead.refresh_from_db()
    assert lead.manual_mode and lead.manual_mode_activated_at == MORNING
    assert lead.events.filter(event_type="manual_mode", actor=owner).exists()


def test_it_leaves_manual_mode_alone_when_unticked(lead, owner):
    staff_reply_send(lead=lead, text="Hello", user=owner, at=MORNING, manual_mode=False)

    lead.refresh_from_db()
    assert not lead.manual_mode


# --- Quiet hours -----------------------------------------------------------------------------


def test_it_holds_a_reply_in_quiet_hours_until_08_00_and_the_tick_sends_it(lead, owner, sms_outbox):
    _lead_texts(lead, "Call me tomorrow", NIGHT - timedelta(hours=2))

    reply = staff_reply_send(lead=_reload(lead), text="Will do!", user=owner, at=NIGHT)

    message = Message.objects.get(pk=reply.message.pk)
    assert reply.held_until == NEXT_08 and "08:00" in reply.summary
    assert (message.status, message.next_attempt_at) == ("pending", NEXT_08)
    assert message_send(message_id=message.pk, at=NEXT_08 - timedelta(minutes=1)).word == "not yet due"
    assert sms_outbox.messages == []

    run = cadence_run_in_process(at=NEXT_08)

    message.refresh_from_db()
    assert run.sent == {"sent": 1} and message.status == "sent" and message.sent_at == NEXT_08
    assert [m.body for m in sms_outbox.messages] == ["Will do!"]


def test_a_held_reply_gets_a_tick_even_when_no_campaign_runs(lead, owner, alpha, monkeypatch):
    from campaigns import tasks

    staff_reply_send(lead=lead, text="Morning!", user=owner, at=NIGHT)
    queued = []
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args, **kwargs: queued.append(task))

    monkeypatch.setattr(tasks.timezone, "now", lambda: NEXT_08 - timedelta(minutes=1))
    tasks.sweep_inbound_all()
    assert queued == []
    monkeypatch.setattr(tasks.timezone, "now", lambda: NEXT_08)
    tasks.sweep_inbound_all()
    assert queued == [tasks.tick_client] and not alpha.has_active_campaign


def test_it_answers_at_once_in_quiet_hours_within_30_minutes_of_the_lead_text(lead, owner, sms_outbox):
    _lead_texts(lead, "Are you still open?", NIGHT - timedelta(minutes=29))

    reply = staff_reply_send(lead=_reload(lead), text="Yes, till 10", user=owner, at=NIGHT)

    assert reply.held_until is None
    assert message_send(message_id=reply.message.pk, at=NIGHT).word == "sent"
    assert len(sms_outbox.messages) == 1


def test_after_30_minutes_the_reply_waits_for_the_morning(lead, owner):
    _lead_texts(lead, "Are you still open?", NIGHT - timedelta(minutes=31))

    reply = staff_reply_send(lead=_reload(lead), text="Yes", user=owner, at=NIGHT)

    assert reply.held_until == NEXT_08


def test_the_claim_holds_a_reply_that_reaches_it_in_quiet_hours(lead, owner, sms_outbox):
    # Queued at 20:59 with nothing to hold it; the worker gets to it after 21:00.
    message = message_queue(
        lead=lead, content="Late", message_type="reply", from_number=NUMBER, at=NIGHT - timedelta(minutes=61)
    )

    claim = message_claim(message_id=message.pk, at=NIGHT - timedelta(minutes=59))

    message.refresh_from_db()
    assert (claim.word, claim.retry_at) == ("quiet hours", NEXT_08)
    assert (message.status, message.next_attempt_at) == ("pending", NEXT_08)


def test_quiet_hours_follow_the_datasets_time_zone(lead, owner):
    CampaignSettings.objects.filter(pk=lead.dataset.campaign_settings_id).update(sending_timezone="Asia/Dubai")

    # 10:00 UTC is 14:00 in Dubai; 18:00 UTC is 22:00 there.
    assert staff_reply_send(lead=_reload(lead), text="Hi", user=owner, at=MORNING).held_until is None
    held = staff_reply_send(lead=_reload(lead), text="Hi", user=owner, at=MORNING + timedelta(hours=8)).held_until
    assert held == datetime(2026, 1, 14, 4, 0, tzinfo=UTC)  # 08:00 in Dubai


def test_the_reply_box_says_when_a_reply_would_go(lead):
    assert reply_timing_note(lead=lead, at=MORNING) == ""
    assert "held until 08:00" in reply_timing_note(lead=lead, at=NIGHT)
    _lead_texts(lead, "Hello?", NIGHT - timedelta(minutes=10))
    assert "goes now" in reply_timing_note(lead=_reload(lead), at=NIGHT)


# --- Refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sms_capable": False}, "Not sent: the number cannot receive SMS."),
        ({"archived": True}, "Not sent: the lead is archived."),
    ],
)
def test_it_refuses_a_lead_that_cannot_receive_sms(lead, owner, change, reason):
    Lead.objects.filter(pk=lead.pk).update(**change)

    with pytest.raises(ReplyRefused, match=reason):
        staff_reply_send(lead=_reload(lead), text="Hello", user=owner, at=MORNING)
    assert not Message.objects.exists()


def test_it_refuses_a_suppressed_number(lead, owner):
    Suppression.objects.create(phone_number=lead.phone_number, source="opt_out", reason="Replied STOP")

    with pytest.raises(ReplyRefused, match="Not sent: the number is suppressed."):
        staff_reply_send(lead=lead, text="Hello", user=owner, at=MORNING)
    assert not Message.objects.exists()


@pytest.mark.parametrize(("text", "problem"), [("   ", "empty"), ("x" * 1601, "at most 1,600 characters")])
def test_it_refuses_an_empty_or_overlong_text(lead, owner, text, problem):
    with pytest.raises(ReplyRefused, match=problem):
        staff_reply_send(lead=lead, text=text, user=owner, at=MORNING)


def test_a_number_suppressed_after_queueing_is_never_texted(lead, owner, sms_outbox):
    reply = staff_reply_send(lead=lead, text="Hello", user=owner, at=MORNING)
    Suppression.objects.create(phone_number=lead.phone_number, source="opt_out", reason="Replied STOP")

    assert message_send(message_id=reply.message.pk, at=MORNING).word == "suppressed"
    assert sms_outbox.messages == []


# --- The lead page ---------------------------------------------------------------------------


def test_a_rep_replies_from_the_lead_page(lead, teammate, client):
    Lead.objects.filter(pk=lead.pk).update(assigned_to=teammate)
    client.force_login(teammate)

    response = client.post(f"/leads/{lead.pk}/reply/", {"text": "Hi there", "manual_mode": "on"}, **HOST)

    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    message = Message.objects.get()
    assert (message.content, message.sent_by, message.message_type) == ("Hi there", teammate, "reply")
    assert Lead.objects.get(pk=lead.pk).manual_mode


def test_the_lead_page_shows_the_reply_box_and_who_sent_what(lead, owner, client):
    staff_reply_send(lead=lead, text="Hello from the team", user=owner, at=MORNING)
    client.force_login(owner)

    body = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()

    assert 'id="reply-form"' in body and 'id="reply-counter"' in body
    assert "Hello from the team" in body and f"by {owner.get_full_name()}" in body


def test_an_unticked_box_keeps_the_lead_out_of_manual_mode(lead, owner, client):
    client.force_login(owner)

    client.post(f"/leads/{lead.pk}/reply/", {"text": "Hi"}, **HOST)

    assert Message.objects.count() == 1 and not Lead.objects.get(pk=lead.pk).manual_mode


def test_a_refused_reply_shows_the_reason_and_keeps_the_text(lead, owner, client):
    client.force_login(owner)
    Suppression.objects.create(phone_number=lead.phone_number, source="opt_out", reason="Replied STOP")

    response = client.post(f"/leads/{lead.pk}/reply/", {"text": "Please come back"}, **HOST)

    assert response.status_code == 400
    assert "the number is suppressed" in response.content.decode()
    assert not Message.objects.exists()


def test_an_empty_reply_is_refused_with_the_reason(lead, owner, client):
    client.force_login(owner)

    response = client.post(f"/leads/{lead.pk}/reply/", {"text": "  "}, **HOST)

    assert response.status_code == 400 and "the text is empty" in response.content.decode()


def test_read_only_users_may_not_reply(lead, alpha, make_user, client):
    client.force_login(make_user(alpha, "ro@alpha.example", User.Role.READ_ONLY))

    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
    response = client.post(f"/leads/{lead.pk}/reply/", {"text": "Hi"}, **HOST)

    assert "can read this conversation but not reply" in page
    assert response.status_code == 403 and not Message.objects.exists()


def test_a_rep_may_not_reply_to_a_lead_not_assigned_to_them(lead, teammate, client):
    client.force_login(teammate)

    response = client.post(f"/leads/{lead.pk}/reply/", {"text": "Hi"}, **HOST)

    assert response.status_code == 404 and not Message.objects.exists()


def test_the_page_says_a_reply_will_be_held_in_quiet_hours(lead, owner, client, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NIGHT)
    client.force_login(owner)

    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
    response = client.post(f"/leads/{lead.pk}/reply/", {"text": "Hi"}, follow=True, **HOST)

    assert "held until 08:00" in page
    assert "the reply is held and goes at 08:00" in response.content.decode()
    assert Message.objects.get().next_attempt_at == NEXT_08


# --- The segment counter ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello", ("GSM-7", "5", "1")),
        ("x" * 161, ("GSM-7", "161", "2")),
        ("Great \U0001f600", ("UCS-2", "8", "1")),
        ("It\u2019s fine", ("GSM-7", "9", "1")),  # a smart quote is sent as a plain one
    ],
)
def test_the_counter_shows_encoding_characters_and_segments(lead, owner, client, text, expected):
    client.force_login(owner)

    response = client.post(f"/leads/{lead.pk}/reply/count/", {"text": text}, **HTMX)

    body = response.content.decode()
    assert body.strip().startswith('<p id="reply-counter"')
    encoding, characters, segments = expected
    assert f'<span class="encoding">{encoding}</span>' in body
    assert f'<span class="characters">{characters}</span>' in body
    assert f'<span class="segments">{segments}</span>' in body


def test_the_counter_without_htmx_renders_the_page_with_the_text_kept(lead, owner, client):
    client.force_login(owner)

    response = client.post(f"/leads/{lead.pk}/reply/count/", {"text": "Keep me"}, **HOST)

    body = response.content.decode()
    assert response.status_code == 200 and ">Keep me</textarea>" in body and not Message.objects.exists()
