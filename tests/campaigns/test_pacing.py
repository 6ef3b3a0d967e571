"""Rate limits: the tick plans send times as slots free up, and the claim holds the limit under concurrency."""

import threading
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from campaigns.cadence import tick
from campaigns.models import Conversation, Message
from campaigns.outbox.send import message_send
from campaigns.services import campaign_start
from campaigns.tasks import tick_client
from clients.queue import enqueue
from leads.models import CampaignSettings, Dataset, Lead
from tests.campaigns.helpers import NUMBER, campaign_dataset

TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _dataset(leads: int, per_minute: int | None, **settings) -> Dataset:
    return campaign_dataset(name="Paced", leads=leads, messages_per_minute=per_minute, **settings)


def _message(lead: Lead, **fields) -> Message:
    conversation, _ = Conversation.objects.get_or_create(lead=lead, defaults={"dataset": lead.dataset})
    defaults = {
        "content": "Hi, it's Sophie. Reply STOP to opt out",
        "direction": "outbound",
        "from_number": NUMBER,
        "to_number": lead.phone_number,
    }
    return Message.objects.create(conversation=conversation, lead=lead, **{**defaults, **fields})


def test_the_tick_spaces_a_minutes_texts_evenly(alpha):
    dataset = _dataset(leads=5, per_minute=2)
    campaign_start(dataset=dataset, at=TUESDAY_10)

    result = tick(at=TUESDAY_10)

    assert len(result.queued) == 2
    assert list(result.not_before.values()) == [TUESDAY_10 + timedelta(seconds=30)]
    assert [message_send(message_id=pk, at=TUESDAY_10).word for pk in result.queued] == ["sent", "not yet due"]


def test_ticks_every_few_seconds_send_at_the_limit_and_never_above_it(alpha):
    dataset = _dataset(leads=20, per_minute=4)
    campaign_start(dataset=dataset, at=TUESDAY_10)

    for second in range(0, 180, 5):
        at = TUESDAY_10 + timedelta(seconds=second)
        for message_id in tick(at=at).to_send(at):
            assert message_send(message_id=message_id, at=at).word in ("sent", "not yet due")

    sent = sorted(Message.objects.filter(status="sent").values_list("sending_at", "answered_at"))
    assert len(sent) == 12  # 4 a minute for 3 minutes
    for (_, answered), (started, _) in zip(sent, sent[4:], strict=False):
        assert started - answered >= timedelta(minutes=1)  # the 5th never begins within 60 s of the 1st's answer
    gaps = [b[0] - a[0] for a, b in zip(sent, sent[1:], strict=False)]
    # 15 s apart, or the next 5 s tick when the slot freed just after one
    assert all(timedelta(seconds=15) <= gap <= timedelta(seconds=20) for gap in gaps)


def test_with_no_limit_everything_due_goes_at_once(alpha):
    dataset = _dataset(leads=5, per_minute=None)
    campaign_start(dataset=dataset, at=TUESDAY_10)

    result = tick(at=TUESDAY_10)

    assert len(result.to_send(TUESDAY_10)) == 5 and result.not_before == {}


def test_a_late_provider_answer_holds_the_slot_until_then(alpha):
    dataset = _dataset(leads=2, per_minute=1)
    first, second = dataset.leads.order_by("first_name")
    _message(first, status="sent", sending_at=TUESDAY_10, answered_at=TUESDAY_10 + timedelta(seconds=5))
    waiting = _message(second, status="pending", message_type="nurture")
    campaign_start(dataset=dataset, at=TUESDAY_10)

    assert message_send(message_id=waiting.pk, at=TUESDAY_10 + timedelta(seconds=62)).word == "rate limited"
    waiting.refresh_from_db()
    assert waiting.next_attempt_at == TUESDAY_10 + timedelta(seconds=65)
    assert message_send(message_id=waiting.pk, at=TUESDAY_10 + timedelta(seconds=65)).word == "sent"


def test_an_attempt_never_answered_holds_its_slot_until_the_timeout(alpha):
    dataset = _dataset(leads=2, per_minute=1)
    first, second = dataset.leads.order_by("first_name")
    _message(first, status="sending", sending_at=TUESDAY_10)  # its worker died mid-send
    waiting = _message(second, status="pending", message_type="nurture")
    campaign_start(dataset=dataset, at=TUESDAY_10)

    assert message_send(message_id=waiting.pk, at=TUESDAY_10 + timedelta(seconds=61)).word == "rate limited"
    waiting.refresh_from_db()
    timeout = timedelta(seconds=settings.TWILIO_TIMEOUT_SECONDS + 5)
    assert waiting.next_attempt_at == TUESDAY_10 + timeout + timedelta(minutes=1)


def test_concurrent_claims_never_take_more_than_the_limit(tenants, committed_db, sms_outbox):
    with schema_context("alpha"):
        dataset = _dataset(leads=8, per_minute=3)
        campaign_start(dataset=dataset, at=TUESDAY_10)
        waiting = [_message(lead, status="pending", message_type="nurture").pk for lead in dataset.leads.all()]
    barrier = threading.Barrier(len(waiting))
    outcomes = []

    def send(message_id):
        try:
            with schema_context("alpha"):
                barrier.wait()
                outcomes.append(message_send(message_id=message_id, at=TUESDAY_10).word)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=[pk]) for pk in waiting]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["rate limited"] * 5 + ["sent"] * 3
    assert len(sms_outbox.messages) == 3


def _open_now(dataset: Dataset, now: datetime) -> Dataset:
    """Its window open all day, every day, in a fixed-offset zone where it is about 14:00 now (clear of
    quiet hours whenever the test runs)."""
    offset = (14 - now.hour + 12) % 24 - 12  # -12..+11 hours
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(
        sending_timezone=f"Etc/GMT{-offset:+d}",  # POSIX sign: Etc/GMT-3 is UTC+3
        sending_days=["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
        sending_hours_start="00:00",
        sending_hours_end="23:59",
        bank_holiday_region="",
    )
    dataset.refresh_from_db()
    return dataset


def test_a_worker_sends_a_planned_text_when_its_slot_frees(tenants, celery_worker_thread, settings):
    settings.DBR_SMS_BACKEND = "locmem"
    now = timezone.now()
    with schema_context("alpha"):
        dataset = _open_now(_dataset(leads=3, per_minute=2), now)
        history, *due = dataset.leads.order_by("first_name")
        # Two texts answered 58 and 57 s ago fill the minute: the next slot frees 2 s from now.
        for sent_at in (now - timedelta(seconds=58), now - timedelta(seconds=57)):
            _message(history, status="sent", sending_at=sent_at, answered_at=sent_at, message_type=None)
        Lead.objects.filter(pk=history.pk).update(contact_status="CONTACTED_3")
        campaign_start(dataset=dataset, at=now)

        enqueue(tick_client, after_commit=False)

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            sent = Message.objects.filter(message_type="M1", status="sent").first()
            if sent:
                break
            time.sleep(0.2)
        assert sent and sent.sending_at >= now + timedelta(seconds=2)
        # Two a minute leave 30 s apart: the other M1 waits for its own slot.
        later = Message.objects.get(message_type="M1", status="pending")
        assert later.next_attempt_at >= now + timedelta(seconds=32)


def _most_in_window(moments: list[datetime], span: timedelta) -> int:
    ordered = sorted(moments)
    counts = (sum(1 for later in ordered[i:] if later - moment < span) for i, moment in enumerate(ordered))
    return max(counts, default=0)


@hypothesis_settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    per_minute=st.integers(1, 6),
    per_hour=st.none() | st.integers(2, 15),
    ticks=st.lists(st.integers(1, 45), min_size=5, max_size=25),
)
def test_no_tick_pattern_ever_exceeds_a_limit(alpha, per_minute, per_hour, ticks):
    with transaction.atomic():
        dataset = _dataset(leads=30, per_minute=per_minute)
        CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(messages_per_hour=per_hour)
        campaign_start(dataset=dataset, at=TUESDAY_10)
        at = TUESDAY_10
        for seconds in ticks:  # ticks at uneven intervals, each sending what is due then
            at += timedelta(seconds=seconds)
            for message_id in tick(at=at).to_send(at):
                message_send(message_id=message_id, at=at)
        attempts = list(Message.objects.filter(sending_at__isnull=False).values_list("sending_at", "answered_at"))
        transaction.set_rollback(True)

    assert _most_in_window([s for s, _ in attempts], timedelta(minutes=1)) <= per_minute
    assert _most_in_window([a for _, a in attempts], timedelta(minutes=1)) <= per_minute
    if per_hour:
        assert _most_in_window([s for s, _ in attempts], timedelta(hours=1)) <= per_hour
    assert attempts  # the first tick always sends one


def test_a_send_held_back_by_the_limit_queues_itself_for_when_its_slot_frees(alpha, monkeypatch):
    from campaigns import tasks

    now = timezone.now()
    dataset = _open_now(_dataset(leads=2, per_minute=1), now)
    first, second = dataset.leads.order_by("first_name")
    _message(first, status="sent", sending_at=now - timedelta(seconds=50), answered_at=now - timedelta(seconds=50))
    waiting = _message(second, status="pending", message_type="nurture")
    Dataset.objects.filter(pk=dataset.pk).update(campaign_status="active")
    queued = []
    monkeypatch.setattr(tasks.send_message, "apply_async", lambda **kwargs: queued.append(kwargs))

    tasks.send_message(str(waiting.pk))

    waiting.refresh_from_db()
    assert waiting.status == "pending"
    assert [call["eta"] for call in queued] == [waiting.next_attempt_at]
    assert waiting.next_attempt_at == now + timedelta(seconds=10)
