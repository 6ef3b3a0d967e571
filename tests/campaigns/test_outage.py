"""A provider outage: texts wait (never failed, never doubled), the campaign pauses with the reason, and
once the provider answers again every lead gets its text exactly once and the campaign completes."""

from collections import Counter
from datetime import timedelta

import pytest

from campaigns.models import Message, SendingHealth
from campaigns.outbox.outage import backoff
from campaigns.services import campaign_resume
from leads.models import Dataset, Lead
from tests.campaigns.helpers import campaign_dataset
from tests.campaigns.test_cadence import TUESDAY_10, _run

LEADS = 8


class Clock:
    """The injected clock, shared with the fake Twilio so its message list agrees with our times."""

    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


@pytest.fixture
def clock(fake_twilio):
    clock = Clock(TUESDAY_10)
    fake_twilio.clock = clock
    return clock


def _m1_only_campaign() -> Dataset:
    from campaigns.services import campaign_start

    dataset = campaign_dataset(leads=LEADS, m2_message="", m3_message="")
    campaign_start(dataset=dataset, at=TUESDAY_10)
    return dataset


def _minutes(clock: Clock, first: int, last: int) -> Counter:
    """A tick a minute (run_cadence with the injected clock) from minute `first` to `last` after 10:00."""
    outcomes = Counter()
    for minute in range(first, last + 1):
        clock.at = TUESDAY_10 + timedelta(minutes=minute)
        outcomes.update(_run(clock.at))
    return outcomes


def test_backoff_doubles_from_30_seconds_to_a_15_minute_cap():
    assert [backoff(n) for n in range(1, 8)] == [
        timedelta(seconds=30),
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(minutes=15),
        timedelta(minutes=15),
    ]
    assert backoff(10_000) == timedelta(minutes=15)  # no attempt cap, no overflow


def test_a_campaign_survives_500s_then_429s_and_completes_with_each_text_sent_once(alpha, fake_twilio, clock):
    dataset = _m1_only_campaign()

    # Twilio answers 500 to everything (and keeps nothing): five texts in a row fail and the campaign pauses.
    fake_twilio.outage("500")
    outcomes = _minutes(clock, 0, 14)
    dataset.refresh_from_db()
    assert dataset.campaign_status == "paused"
    assert dataset.campaign_paused_reason == "Twilio failing: 500 since 10:00"
    assert outcomes["unknown"] == 5 and outcomes["campaign not active"] == LEADS - 5
    assert outcomes["still unknown"] > 0  # looked up while down: neither resent nor failed
    assert not Message.objects.filter(status="failed").exists()

    # Staff resume while Twilio now rate-limits everything: five 429s in a row pause it again.
    fake_twilio.outage("429")
    campaign_resume(dataset=dataset, at=clock.at)
    assert set(Message.objects.filter(status="pending").values_list("next_attempt_at", flat=True)) == {clock.at}
    _minutes(clock, 15, 29)
    dataset.refresh_from_db()
    assert dataset.campaign_status == "paused"
    assert dataset.campaign_paused_reason == "Twilio failing: 429 since 10:15"
    assert not Message.objects.filter(status="failed").exists()
    assert Lead.objects.filter(next_step="M1").count() == LEADS  # nobody failed, nobody skipped

    # Twilio is back; staff resume: every lead gets its M1 exactly once and the campaign completes.
    fake_twilio.outage(None)
    campaign_resume(dataset=dataset, at=clock.at)
    _minutes(clock, 30, 45)

    received = Counter(message["to"] for message in fake_twilio.messages)
    assert sorted(received) == sorted(Lead.objects.values_list("phone_number", flat=True))
    assert set(received.values()) == {1}
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    assert set(Lead.objects.values_list("contact_status", flat=True)) == {"CONTACTED_1"}
    dataset.refresh_from_db()
    assert dataset.campaign_status == "completed"
    assert SendingHealth.objects.get(dataset=dataset).failures == 0


def test_a_text_kept_by_twilio_during_a_500_outage_is_found_not_resent(alpha, fake_twilio, clock):
    dataset = _m1_only_campaign()
    Lead.objects.exclude(pk=Lead.objects.order_by("pk").first().pk).delete()

    fake_twilio.outage("500", store=True)  # Twilio keeps the text but answers 500
    assert _minutes(clock, 0, 0) == {"unknown": 1}
    fake_twilio.outage(None)
    outcomes = _minutes(clock, 1, 5)

    assert outcomes["found"] == 1 and "sent" not in outcomes
    assert len(fake_twilio.messages) == 1
    dataset.refresh_from_db()
    assert dataset.campaign_status == "completed"


def test_a_success_between_failures_starts_the_count_again(alpha, fake_twilio, clock):
    dataset = _m1_only_campaign()
    fake_twilio.fail_next("429", times=4)  # four leads wait, the fifth send goes through
    outcomes = _minutes(clock, 0, 0)
    assert outcomes == {"retry": 4, "sent": LEADS - 4}
    assert SendingHealth.objects.get(dataset=dataset).failures == 0
    fake_twilio.fail_next("429", times=4)
    _minutes(clock, 1, 1)
    dataset.refresh_from_db()
    assert dataset.campaign_status == "active"  # never five in a row
    _minutes(clock, 2, 10)
    assert Counter(m["to"] for m in fake_twilio.messages).most_common(1)[0][1] == 1
    assert len(fake_twilio.messages) == LEADS


def test_a_permanent_refusal_fails_the_lead_visibly_and_the_campaign_still_completes(
    alpha, fake_twilio, clock, owner, client
):
    dataset = _m1_only_campaign()
    refused = Lead.objects.order_by("pk").first()
    fake_twilio.reject_number(refused.phone_number, code=30004)

    _minutes(clock, 0, 2)

    refused.refresh_from_db()
    assert refused.contact_status == "SEND_FAILED" and refused.next_step is None
    message = Message.objects.get(lead=refused)
    assert message.status == "failed" and "30004" in message.error_message
    assert refused.events.filter(event_type="cadence_left", data__reason__icontains="blocked").exists()
    dataset.refresh_from_db()
    assert dataset.campaign_status == "completed"

    # The lead page says so: the status, and why on the timeline.
    client.force_login(owner)
    page = client.get(f"/leads/{refused.pk}/", HTTP_HOST="alpha.localhost").content.decode()
    assert "Sending failed" in page and "blocked by the recipient or their carrier" in page


def test_the_paused_campaign_shows_the_outage_reason(alpha, fake_twilio, clock, owner, client):
    dataset = _m1_only_campaign()
    fake_twilio.outage("429")
    _minutes(clock, 0, 0)

    client.force_login(owner)
    page = client.get(f"/campaigns/{dataset.pk}/", HTTP_HOST="alpha.localhost").content.decode()
    assert "Twilio failing: 429 since 10:00" in page
