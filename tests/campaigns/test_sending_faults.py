"""At most once against the real Twilio SDK and a local fake Twilio: faults never cause a duplicate."""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from campaigns.models import Message
from campaigns.outbox.send import message_send
from campaigns.services import campaign_start
from clients.queue import enqueue
from leads.models import Lead
from tests.campaigns.helpers import NUMBER, campaign_dataset
from tests.campaigns.test_cadence import TUESDAY_10, _run


@pytest.fixture
def fake_twilio(fake_twilio):
    fake_twilio.clock = lambda: TUESDAY_10  # Twilio's clock agrees with the injected one
    return fake_twilio


def _queued_message(at=TUESDAY_10) -> Message:
    campaign_start(dataset=campaign_dataset(leads=1), at=at)
    _run_queue_only(at)
    return Message.objects.get()


def _run_queue_only(at):
    from campaigns.cadence import tick

    return tick(at=at)


@pytest.mark.parametrize("fault", ["500", "drop", "garbage", "delay"])
def test_an_ambiguous_answer_is_reconciled_not_resent(alpha, fake_twilio, fault):
    message = _queued_message()
    fake_twilio.fail_next(fault, seconds=3)

    assert message_send(message_id=message.pk, at=TUESDAY_10).word == "unknown"
    outcome = _run(TUESDAY_10 + timedelta(minutes=3))

    message.refresh_from_db()
    assert outcome == {"found": 1}, outcome
    assert message.status == "sent" and message.twilio_sid == fake_twilio.messages[0]["sid"]
    assert len(fake_twilio.messages) == 1
    assert Lead.objects.get().contact_status == "CONTACTED_1"


def test_an_ambiguous_answer_that_never_arrived_is_sent_again_whenever_absent(alpha, fake_twilio):
    message = _queued_message()
    fake_twilio.fail_next("500", store=False)

    assert message_send(message_id=message.pk, at=TUESDAY_10).word == "unknown"
    Message.objects.filter(pk=message.pk).update(unknown_count=7)  # however often it was lost before
    fake_twilio.fail_next("500")  # the provider is still down: the lookup waits, nothing is resent
    assert _run(TUESDAY_10 + timedelta(minutes=3)) == {"still unknown": 1}
    message.refresh_from_db()
    assert message.next_attempt_at == TUESDAY_10 + timedelta(minutes=9)  # twice the 3 minutes unknown so far

    # Looked up (absent), pending again and sent in the same run.
    assert _run(TUESDAY_10 + timedelta(minutes=9)) == {"absent": 1, "sent": 1}
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 2
    assert len(fake_twilio.messages) == 1


def test_a_refused_connection_is_retried_with_backoff_and_no_attempt_cap(alpha, fake_twilio, settings):
    message = _queued_message()
    dataset = message.lead.dataset
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens: the request never left

    assert message_send(message_id=message.pk, at=TUESDAY_10).word == "retry"
    message.refresh_from_db()
    waits = [message.next_attempt_at - TUESDAY_10]
    for _ in range(3):
        at = message.next_attempt_at
        assert _run(at) == {"retry": 1}
        message.refresh_from_db()
        waits.append(message.next_attempt_at - at)
    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240)]

    # The fifth failure in a row pauses the campaign; the text waits, neither failed nor lost.
    assert _run(message.next_attempt_at) == {"retry": 1}
    dataset.refresh_from_db()
    message.refresh_from_db()
    assert dataset.campaign_status == "paused"
    assert dataset.campaign_paused_reason == "Twilio failing: no connection since 10:00"
    assert message.status == "pending" and message.attempts == 5
    assert Lead.objects.get().next_step == "M1"


def test_a_permanent_error_is_not_retried(alpha, fake_twilio):
    message = _queued_message()
    fake_twilio.reject_number(Lead.objects.get().phone_number, code=21614)

    assert message_send(message_id=message.pk, at=TUESDAY_10).word == "failed"

    lead = Lead.objects.get()
    assert not lead.sms_capable and "21614" in lead.sms_capable_reason
    assert _run(TUESDAY_10 + timedelta(minutes=10)) == {}


@pytest.mark.slow
def test_a_worker_killed_mid_send_is_reconciled_not_resent(tenants, fake_twilio, start_celery_worker):
    from campaigns.models import Conversation
    from campaigns.tasks import send_message

    now = timezone.now()
    fake_twilio.clock = timezone.now
    with schema_context("alpha"):
        lead = campaign_dataset(leads=1).leads.get()
        conversation = Conversation.objects.create(lead=lead, dataset=lead.dataset)
        # A staff answer to the lead's text of a minute ago: neither the campaign's window nor quiet
        # hours hold it, so the worker's real clock may send it now, whatever the time of day.
        Message.objects.create(
            conversation=conversation,
            lead=lead,
            content="Yes, call me",
            direction="inbound",
            message_type="reply",
            from_number=lead.phone_number,
            to_number=NUMBER,
            status="received",
            sent_at=now - timedelta(minutes=1),
        )
        message = Message.objects.create(
            conversation=conversation,
            lead=lead,
            content="Thanks, a colleague will call you.",
            direction="outbound",
            message_type="reply",
            from_number=NUMBER,
            to_number=lead.phone_number,
            status="pending",
            queued_at=now,
        )
    fake_twilio.fail_next("delay", seconds=60)  # Twilio stores it, then never answers
    worker = start_celery_worker(
        DBR_TEST_SMS_BACKEND="twilio",
        TWILIO_API_BASE_URL=fake_twilio.base_url,
        TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
        TWILIO_AUTH_TOKEN=fake_twilio.auth_token,
        TWILIO_TIMEOUT_SECONDS="120",
    )
    with schema_context("alpha"):
        enqueue(send_message, str(message.pk), after_commit=False)
    deadline = time.monotonic() + 60
    while not fake_twilio.messages and time.monotonic() < deadline:
        time.sleep(0.2)
    assert fake_twilio.messages, "the worker never reached the fake Twilio"

    os.kill(worker.pid, signal.SIGKILL)  # after `sending`, before the SID is stored
    worker.wait(10)

    with schema_context("alpha"):
        message.refresh_from_db()
        assert message.status == "sending"
        later = timezone.now() + timedelta(minutes=6)
        _run(later)  # the sweep: sending for too long → unknown
        message.refresh_from_db()
        assert message.status == "unknown"
        assert _run(later + timedelta(minutes=3)) == {"found": 1}
        message.refresh_from_db()
        assert message.status == "sent" and message.twilio_sid == fake_twilio.messages[0]["sid"]
    assert len(fake_twilio.messages) == 1
