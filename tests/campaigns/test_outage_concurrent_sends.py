"""Sending a batch on threads (to overlap the provider's latency) keeps every text at most once."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

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
