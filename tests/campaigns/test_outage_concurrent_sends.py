"""Sending a batch on threads (to overlap the provider's latency) keeps every text at most once."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

import pytest
from django_tenants.utils import schema_context

from campaigns.cadence import tick
from campaigns.models import Message
from campaigns.outbox.send import messages_send, send_pool_shutdown
from campaigns.services import campaign_start
from leads.models import CampaignSettings
from tests.campaigns.helpers import campaign_dataset
from tests.campaigns.test_cadence import TUESDAY_10

LEADS = 12


@pytest.fixture
def send_threads(settings):
    settings.DBR_SEND_THREADS = 4
    yield
    send_pool_shutdown()  # the pool's threads hold connections to the test database


def _queued(**options) -> list:
    dataset = campaign_dataset(leads=LEADS, m2_message="", m3_message="")
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(**options)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    return tick(at=TUESDAY_10).queued


def _send_in_alpha(message_ids: list, at=TUESDAY_10) -> list:
    with schema_context("alpha"):
        return messages_send(message_ids=message_ids, clock=lambda: at)


def test_two_workers_sending_the_same_batch_on_threads_send_each_text_once(committed_db, fake_twilio, send_threads):
    fake_twilio.clock = lambda: TUESDAY_10
    fake_twilio.answer_delay = 0.05
    with schema_context("alpha"):
        queued = _queued()

    # Two workers handed the same texts (a redelivered task), in opposite orders, at the same moment.
    with ThreadPoolExecutor(2) as workers:
        runs = list(workers.map(_send_in_alpha, [queued, list(reversed(queued))]))

    words = Counter(outcome.word for run in runs for _, outcome in run)
    assert words == {"sent": LEADS, "not pending": LEADS}, words
    received = Counter(message["to"] for message in fake_twilio.messages)
    assert len(received) == LEADS and set(received.values()) == {1}
    with schema_context("alpha"):
        assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


def test_a_batch_on_threads_never_exceeds_the_rate_limit(committed_db, fake_twilio, send_threads):
    fake_twilio.clock = lambda: TUESDAY_10
    fake_twilio.answer_delay = 0.05
    with schema_context("alpha"):
        queued = _queued()  # twelve due now; then the limit is lowered under them
        CampaignSettings.objects.update(messages_per_hour=5)

    words = Counter(outcome.word for _, outcome in _send_in_alpha(queued))

    assert words["sent"] == 5 and words["rate limited"] == LEADS - 5, words
    assert len(fake_twilio.messages) == 5


@pytest.mark.slow
def test_a_celery_worker_sends_the_ticks_batches_on_threads_each_once(committed_db, fake_twilio, start_celery_worker):
    """The production path: the tick's texts queued in batches, a worker process sending each on threads."""
    import time

    from django.utils import timezone

    from campaigns.tasks import sends_queue

    now = timezone.now()
    fake_twilio.clock = timezone.now
    fake_twilio.answer_delay = 0.1
    with schema_context("alpha"):
        # Staff replies: no window or limit holds them, only quiet hours (see `_replies`).
        queued = _replies(LEADS * 2, at=now)
    worker = start_celery_worker(
        DBR_TEST_SMS_BACKEND="twilio",
        TWILIO_API_BASE_URL=fake_twilio.base_url,
        TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
        TWILIO_AUTH_TOKEN=fake_twilio.auth_token,
        DBR_SEND_THREADS="4",
        DBR_SEND_BATCH="10",
    )
    with schema_context("alpha"):
        sends_queue(queued)
        deadline = time.monotonic() + 90
        while Message.objects.filter(status__in=["pending", "sending"]).exists() and time.monotonic() < deadline:
            assert worker.poll() is None, "the worker died"
            time.sleep(0.3)
        assert set(Message.objects.values_list("status", flat=True)) == {"sent"}
    received = Counter(message["to"] for message in fake_twilio.messages)
    assert len(received) == LEADS * 2 and set(received.values()) == {1}


def _replies(count: int, *, at) -> list:
    """`count` staff replies, one per lead, pending: no window or limit holds them."""
    from campaigns.models import Conversation
    from tests.campaigns.helpers import NUMBER

    # Quiet hours hold replies: the dataset's time zone is one where it is midday now, whenever CI runs.
    offset = 12 - at.astimezone(UTC).hour  # local = UTC + offset, within −11…+12
    zone = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-3 is UTC+3
    dataset = campaign_dataset(leads=count, sending_timezone=zone)
    messages = []
    for lead in dataset.leads.all():
        conversation = Conversation.objects.create(lead=lead, dataset=dataset)
        messages.append(
            Message.objects.create(
                conversation=conversation,
                lead=lead,
                content=f"Thanks {lead.first_name}, a colleague will call you.",
                direction="outbound",
                message_type="reply",
                from_number=NUMBER,
                to_number=lead.phone_number,
                status="pending",
                queued_at=at,
            )
        )
    return [message.pk for message in messages]
