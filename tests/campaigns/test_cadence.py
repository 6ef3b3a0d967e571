"""The cadence on real PostgreSQL: lifecycle, the tick, windows, limits, at-most-once sending."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from campaigns.cadence import cadence_run_in_process, tick
from campaigns.models import Message
from campaigns.outbox.send import message_send
from campaigns.services import CampaignRefused, campaign_pause, campaign_resume, campaign_start
from campaigns.transports.base import TransportError
from leads.models import CampaignSettings, Dataset, Lead, LeadEvent, Suppression
from tests.campaigns.helpers import NUMBER, campaign_dataset

TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # London is on GMT in December


def _run(at: datetime) -> dict:
    run = cadence_run_in_process(at=at)
    return dict(run.sent + run.reconciled)


def test_it_sends_m1_in_the_window_and_schedules_m2(alpha, sms_outbox):
    dataset = campaign_dataset()
    campaign_start(dataset=dataset, at=TUESDAY_10)

    assert _run(TUESDAY_10) == {"sent": 3}

    assert len(sms_outbox.messages) == 3
    sent = sms_outbox.messages[0]
    assert sent.from_ == NUMBER and "STOP" in sent.body and "Alpha Solar Ltd" in sent.body
    assert sent.status_callback.startswith("http://alpha.localhost") and "message=" in sent.status_callback
    assert 0 < sent.validity_period <= 7 * 3600
    lead = Lead.objects.get(first_name="Lead0")
    assert (lead.contact_status, lead.m1_sent_at, lead.next_step) == ("CONTACTED_1", TUESDAY_10, "M2")
    assert lead.due_at == TUESDAY_10 + timedelta(hours=48)
    assert Message.objects.get(lead=lead).sent_at == TUESDAY_10


def test_the_whole_cadence_runs_then_the_lead_goes_cold(alpha):
    dataset = campaign_dataset(leads=1, silence_timeout_days=28)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    _run(TUESDAY_10)

    assert _run(TUESDAY_10 + timedelta(hours=47)) == {}
    assert _run(TUESDAY_10 + timedelta(hours=48)) == {"sent": 1}  # Thursday 10:00: M2
    assert _run(TUESDAY_10 + timedelta(hours=48 + 72)) == {}  # Sunday 10:00: the window is shut
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert _run(monday) == {"sent": 1}  # M3 waits for the next opening
    lead = Lead.objects.get()
    assert lead.contact_status == "CONTACTED_3" and lead.next_step is None

    _run(monday + timedelta(days=28, minutes=1))

    lead.refresh_from_db()
    assert lead.contact_status == "COLD"
    dataset.refresh_from_db()
    assert dataset.campaign_status == "completed"


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 12, 1, 22, 30, tzinfo=UTC),  # quiet hours
        datetime(2026, 12, 1, 7, 59, tzinfo=UTC),  # quiet hours
        datetime(2026, 12, 1, 17, 0, tzinfo=UTC),  # window closed
        datetime(2026, 12, 5, 11, 0, tzinfo=UTC),  # Saturday
    ],
)
def test_nothing_is_sent_outside_the_window(alpha, at, sms_outbox):
    dataset = campaign_dataset()
    campaign_start(dataset=dataset, at=at)

    assert _run(at) == {}
    assert sms_outbox.messages == []


def test_follow_ups_wait_for_the_window_or_only_for_quiet_hours(alpha, sms_outbox):
    strict = campaign_dataset(name="Strict", leads=1)
    loose = campaign_dataset(name="Loose", leads=1, delay_respect_sending_hours=False)
    Lead.objects.filter(dataset=loose).update(phone_number="+447700900150")
    for dataset in (strict, loose):
        campaign_start(dataset=dataset, at=TUESDAY_10)
    Lead.objects.update(
        contact_status="CONTACTED_1", m1_sent_at=TUESDAY_10, next_step="M2", due_at=TUESDAY_10 + timedelta(hours=9)
    )
    evening = TUESDAY_10 + timedelta(hours=9)  # 19:00: window shut, not quiet hours

    _run(evening)

    assert [m.to for m in sms_outbox.messages] == ["+447700900150"]


def test_a_rate_limit_spaces_the_texts_each_run_sends(alpha):
    dataset = campaign_dataset(leads=5)
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(messages_per_minute=2)
    campaign_start(dataset=dataset, at=TUESDAY_10)

    # Two a minute leave 30 s apart: a run sends every text its tick planned before the next tick, each
    # stamped with its slot, and none of the rest.
    assert _run(TUESDAY_10)["sent"] == 2
    assert Message.objects.filter(status="pending").count() == 0
    sent = sorted(Message.objects.filter(status="sent").values_list("sent_at", flat=True))
    assert sent == [TUESDAY_10, TUESDAY_10 + timedelta(seconds=30)]
    assert _run(TUESDAY_10 + timedelta(seconds=61))["sent"] == 2
    assert _run(TUESDAY_10 + timedelta(seconds=121))["sent"] == 1
    sent = sorted(Message.objects.filter(status="sent").values_list("sent_at", flat=True))
    assert len(sent) == 5
    for first, third in zip(sent, sent[2:], strict=False):
        assert third - first >= timedelta(seconds=60), sent  # never three in any minute


def test_a_per_minute_limit_never_leaves_planned_texts_for_a_later_run(alpha):
    """1,000 a minute plans three M1s 60 ms apart: one run sends all three, not one now and two days later."""
    dataset = campaign_dataset(leads=3)
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(messages_per_minute=1000)
    campaign_start(dataset=dataset, at=TUESDAY_10)

    assert _run(TUESDAY_10) == {"sent": 3}
    sent = sorted(Message.objects.values_list("sent_at", flat=True))
    assert sent == [TUESDAY_10 + timedelta(milliseconds=60 * i) for i in range(3)]


@pytest.mark.parametrize(
    "change",
    [
        {"manual_mode": True},
        {"archived": True},
        {"sms_capable": False},
        {"is_duplicate": True},
        {"contact_status": "REMOVED"},
    ],
)
def test_ineligible_leads_are_never_texted(alpha, change, sms_outbox):
    dataset = campaign_dataset(leads=1)
    campaign_start(dataset=dataset, at=TUESDAY_10)  # a start with nobody to text is refused: change it after
    Lead.objects.update(**change)

    _run(TUESDAY_10)

    assert sms_outbox.messages == []


def test_a_number_suppressed_between_queueing_and_sending_is_not_sent(alpha, sms_outbox):
    dataset = campaign_dataset(leads=1)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    result = tick(at=TUESDAY_10)
    Suppression.objects.create(phone_number=Lead.objects.get().phone_number, source="opt_out")

    assert message_send(message_id=result.queued[0], at=TUESDAY_10).word == "suppressed"

    assert sms_outbox.messages == []
    assert Message.objects.get().status == "failed"


def test_a_lead_flagged_duplicate_after_queueing_is_not_sent_and_leaves_the_cadence(alpha, sms_outbox):
    dataset = campaign_dataset(leads=1)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    (queued,) = tick(at=TUESDAY_10).queued
    Lead.objects.update(is_duplicate=True)

    assert message_send(message_id=queued, at=TUESDAY_10).word == "ineligible"

    assert sms_outbox.messages == []
    assert Message.objects.get().error_message == "Not sent: the lead is a flagged duplicate."
    lead = Lead.objects.get()
    assert (lead.next_step, lead.due_at) == (None, None)
    event = LeadEvent.objects.get(lead=lead, event_type="cadence_left")
    assert (event.data, event.created_at) == ({"reason": "the lead is a flagged duplicate"}, TUESDAY_10)


def test_a_paused_campaign_sends_nothing_until_resumed(alpha):
    dataset = campaign_dataset(leads=2)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    campaign_pause(dataset=dataset, at=TUESDAY_10)

    assert _run(TUESDAY_10) == {}
    campaign_resume(dataset=dataset, at=TUESDAY_10)
    assert _run(TUESDAY_10) == {"sent": 2}


def test_nothing_is_sent_for_a_paused_client(alpha):
    dataset = campaign_dataset(leads=1)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    type(alpha).objects.filter(pk=alpha.pk).update(status="paused")
    connection.tenant.status = "paused"
    try:
        assert _run(TUESDAY_10) == {}
    finally:
        connection.tenant.status = "active"


def test_starting_refuses_with_every_reason(alpha):
    dataset = campaign_dataset()
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(
        twilio_number=None, sending_hours_start=None, m1_message="Hi {firstname}", auto_append_opt_out=False
    )
    dataset.refresh_from_db()

    with pytest.raises(CampaignRefused) as refused:
        campaign_start(dataset=dataset, at=TUESDAY_10)

    text = " ".join(refused.value.problems)
    assert "sending hours" in text and "sending number" in text and "{firstname}" in text
    assert "STOP" in text or "opt" in text.lower()
    dataset.refresh_from_db()
    assert dataset.campaign_status == "draft"


def test_starting_refuses_a_campaign_with_nobody_to_text(alpha):
    empty = campaign_dataset(name="Empty", leads=0)
    landlines = campaign_dataset(name="Landlines", leads=0)
    Lead.objects.create(dataset=landlines, phone_number="+441632960001", sms_capable=False)

    for dataset in (empty, landlines):
        with pytest.raises(CampaignRefused) as refused:
            campaign_start(dataset=dataset, at=TUESDAY_10)
        assert any("import leads first" in problem for problem in refused.value.problems)
        dataset.refresh_from_db()
        assert dataset.campaign_status == "draft"


def test_the_campaign_command_prints_every_reason_and_exits_1(alpha, capsys):
    dataset = campaign_dataset()
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(twilio_number=None)

    with pytest.raises(CommandError, match="could not start"):
        call_command("campaign", "--client", "alpha", "--dataset", "Cadence", "start", "--at", "2026-12-01T10:00:00Z")

    assert "sending number" in capsys.readouterr().err


def test_run_cadence_sends_with_the_injected_clock(alpha, capsys):
    dataset = campaign_dataset(leads=2)
    call_command("campaign", "--client", "alpha", "--dataset", "Cadence", "start", "--at", "2026-12-01T10:00:00Z")

    call_command("run_cadence", "--client", "alpha", "--at", "2026-12-01T10:05:00Z")

    assert "2 queued" in capsys.readouterr().out
    assert set(Message.objects.values_list("sent_at", flat=True)) == {TUESDAY_10 + timedelta(minutes=5)}
    dataset.refresh_from_db()
    assert dataset.campaign_status == "active"


def test_run_cadence_queue_only_sends_nothing(alpha, sms_outbox):
    campaign_dataset(leads=2)
    call_command("campaign", "--client", "alpha", "--dataset", "Cadence", "start", "--at", "2026-12-01T10:00:00Z")

    call_command("run_cadence", "--client", "alpha", "--at", "2026-12-01T10:05:00Z", "--queue-only")

    assert sms_outbox.messages == []
    assert set(Message.objects.values_list("status", flat=True)) == {"pending"}


def test_a_retryable_error_goes_back_to_pending_and_is_sent_once_later(alpha, sms_outbox):
    dataset = campaign_dataset(leads=1)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    sms_outbox.fail_next(TransportError("connection refused", kind="retry"))

    assert _run(TUESDAY_10) == {"retry": 1}
    assert _run(TUESDAY_10 + timedelta(minutes=1)) == {"sent": 1}
    assert len(sms_outbox.messages) == 1


def test_an_ambiguous_error_is_never_resent_blindly(alpha, sms_outbox):
    dataset = campaign_dataset(leads=1)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    sms_outbox.fail_next(TransportError("read timeout", kind="ambiguous"))

    assert _run(TUESDAY_10) == {"unknown": 1}
    assert _run(TUESDAY_10 + timedelta(minutes=1)) == {}  # reconciliation waits two minutes
    assert Message.objects.get().status == "unknown"


def test_a_permanent_invalid_number_flags_the_lead(alpha, sms_outbox):
    dataset = campaign_dataset(leads=1)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    sms_outbox.fail_next(TransportError("invalid", kind="permanent", code="21211"))

    assert _run(TUESDAY_10) == {"failed": 1}

    lead = Lead.objects.get()
    assert not lead.sms_capable and "21211" in lead.sms_capable_reason
    assert lead.m1_sent_at is None and lead.contact_status == "READY"


def test_an_account_error_pauses_the_campaign_with_the_reason(alpha, sms_outbox):
    dataset = campaign_dataset(leads=2)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    sms_outbox.fail_next(TransportError("Authenticate", kind="permanent", code="20003", status=401))

    _run(TUESDAY_10)

    dataset.refresh_from_db()
    assert dataset.campaign_status == "paused" and "20003" in dataset.campaign_paused_reason


def test_two_ticks_at_the_same_moment_queue_once(tenants, committed_db):
    from django.db import connections
    from django_tenants.utils import schema_context

    with schema_context("alpha"):
        dataset = campaign_dataset(leads=20)
        campaign_start(dataset=dataset, at=TUESDAY_10)
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            with schema_context("alpha"):
                barrier.wait()
                results.append(tick(at=TUESDAY_10))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with schema_context("alpha"):
        assert Message.objects.count() == 20
        assert sum(len(r.queued) for r in results) == 20


def test_beat_ticks_only_clients_running_a_campaign(tenants, db, settings):
    from campaigns import tasks

    sent = []
    tasks.tick_client.apply_async = lambda **kwargs: sent.append(kwargs["headers"]["_schema_name"])
    try:
        type(tenants["alpha"]).objects.filter(slug="alpha").update(has_active_campaign=True)
        assert tasks.tick_all() == 1
    finally:
        del tasks.tick_client.apply_async
    assert sent == ["alpha"]


def test_window_time_is_the_datasets_own(alpha):
    dataset = campaign_dataset(leads=1, sending_hours_start=time(18, 0), sending_hours_end=time(20, 0))
    campaign_start(dataset=dataset, at=TUESDAY_10)

    assert _run(TUESDAY_10) == {}
    assert _run(TUESDAY_10.replace(hour=18, minute=30)) == {"sent": 1}


def test_the_silence_nudge_is_sent_once_when_enabled(alpha):
    dataset = campaign_dataset(
        leads=1,
        m2_message=None,
        m3_message=None,
        silence_nudge_enabled=True,
        silence_nudge_days=7,
        silence_nudge_message="Hi {first_name}, still happy to help with solar at {company_name}.",
    )
    campaign_start(dataset=dataset, at=TUESDAY_10)
    _run(TUESDAY_10)  # M1, the only step

    assert _run(TUESDAY_10 + timedelta(days=6)) == {}
    assert _run(TUESDAY_10 + timedelta(days=7)) == {"sent": 1}
    assert _run(TUESDAY_10 + timedelta(days=8)) == {}

    nudge = Message.objects.get(message_type="nurture")
    assert "still happy to help" in nudge.content and "STOP" in nudge.content
    dataset.refresh_from_db()
    assert dataset.campaign_status == "completed"


def test_a_completed_dataset_archives_itself_after_the_set_days(alpha):
    dataset = campaign_dataset(leads=1, m2_message=None, m3_message=None)
    Dataset.objects.filter(pk=dataset.pk).update(auto_archive_after_days=28)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    _run(TUESDAY_10)
    _run(TUESDAY_10 + timedelta(minutes=1))  # nothing left to do: completes

    _run(TUESDAY_10 + timedelta(days=29))

    dataset.refresh_from_db()
    assert dataset.campaign_status == "completed" and dataset.archived


def test_keep_both_duplicates_are_never_in_two_cadences_at_once(alpha, sms_outbox):
    first, second = campaign_dataset(name="One", leads=1), campaign_dataset(name="Two", leads=1)
    assert Lead.objects.values("phone_number").distinct().count() == 1
    campaign_start(dataset=first, at=TUESDAY_10)
    _run(TUESDAY_10)
    campaign_start(dataset=second, at=TUESDAY_10 + timedelta(hours=1))

    _run(TUESDAY_10 + timedelta(hours=1))

    assert len(sms_outbox.messages) == 1
    assert Lead.objects.get(dataset=second).m1_sent_at is None


def test_the_rate_limit_is_checked_again_when_sending(alpha):
    dataset = campaign_dataset(leads=3)
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(messages_per_minute=2)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    queued = tick(at=TUESDAY_10).queued
    # A third message queued by hand (e.g. a retry) must still wait for the window to slide.
    extra = Message.objects.create(
        conversation=Message.objects.get(pk=queued[0]).conversation,
        lead=Message.objects.get(pk=queued[0]).lead,
        content="x",
        direction="outbound",
        message_type="nurture",
        from_number=NUMBER,
        to_number=Message.objects.get(pk=queued[0]).lead.phone_number,
        status="pending",
        queued_at=TUESDAY_10,
    )

    first, second = queued  # two a minute: the second is planned 30 s on
    outcomes = [message_send(message_id=pk, at=TUESDAY_10).word for pk in (first, extra.pk)]
    outcomes.append(message_send(message_id=second, at=TUESDAY_10 + timedelta(seconds=30)).word)

    assert outcomes == ["sent", "sent", "rate limited"]


def test_a_failed_tick_is_shown_to_staff_until_one_succeeds(alpha, owner, client, monkeypatch):
    from campaigns import tasks
    from clients.models import Client

    def broken(*, at):
        raise RuntimeError("could not serialize access")

    monkeypatch.setattr(tasks, "tick", broken)
    with pytest.raises(RuntimeError):
        tasks.tick_client()
    client.force_login(owner)

    page = client.get("/campaigns/", HTTP_HOST="alpha.localhost").content.decode()

    assert "Sending is stuck" in page and "RuntimeError: could not serialize access" in page
    monkeypatch.setattr(tasks, "tick", tick)
    tasks.tick_client()
    assert Client.objects.get(slug="alpha").cadence_error == ""
    assert "Sending is stuck" not in client.get("/campaigns/", HTTP_HOST="alpha.localhost").content.decode()


def test_a_step_already_in_the_outbox_is_not_queued_again(alpha):
    dataset = campaign_dataset(leads=2)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    first = tick(at=TUESDAY_10)
    Lead.objects.update(due_at=TUESDAY_10)  # e.g. restored by hand while the M1s still wait

    again = tick(at=TUESDAY_10 + timedelta(minutes=1))

    assert again.queued == [] and len(first.queued) == 2
    assert Message.objects.count() == 2
    assert not Lead.objects.filter(due_at__isnull=False).exists()


def test_m1_joins_a_conversation_the_lead_already_opened(alpha):
    from campaigns.models import Conversation

    dataset = campaign_dataset(leads=1)
    lead = dataset.leads.get()
    opened = Conversation.objects.create(lead=lead, dataset=dataset)
    campaign_start(dataset=dataset, at=TUESDAY_10)

    (message_id,) = tick(at=TUESDAY_10).queued

    assert Message.objects.get(pk=message_id).conversation_id == opened.pk
    assert Conversation.objects.count() == 1


def test_texts_queued_before_a_pause_wait_quietly_and_go_after_resume(alpha):
    dataset = campaign_dataset(leads=2)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    queued = tick(at=TUESDAY_10).queued
    campaign_pause(dataset=dataset, at=TUESDAY_10)

    assert [message_send(message_id=pk, at=TUESDAY_10).word for pk in queued] == ["campaign not active"] * 2
    assert tick(at=TUESDAY_10 + timedelta(minutes=10)).resend == []  # not offered again while paused

    campaign_resume(dataset=dataset, at=TUESDAY_10 + timedelta(minutes=11))
    assert _run(TUESDAY_10 + timedelta(minutes=12)) == {"sent": 2}


def test_a_text_still_queued_when_the_campaign_ends_is_failed_with_the_reason(alpha, sms_outbox):
    from campaigns.services import campaign_complete

    dataset = campaign_dataset(leads=1)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    (queued,) = tick(at=TUESDAY_10).queued
    campaign_complete(dataset=dataset, at=TUESDAY_10)

    assert message_send(message_id=queued, at=TUESDAY_10).word == "campaign ended"
    message = Message.objects.get(pk=queued)
    assert message.status == "failed" and "campaign ended" in message.error_message
    assert sms_outbox.messages == []
