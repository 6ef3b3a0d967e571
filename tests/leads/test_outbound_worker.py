"""Outbound events with a real Celery worker: the events a transaction records are queued when it commits and
delivered in order, the caller never waiting on the receiver."""

import time

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from clients.models import Client
from leads.happenings import Happening, lead_happened
from leads.models import Lead, WebhookDelivery
from leads.outbound import outbound_url_set, webhook_delivery_attempt
from leads.services import dataset_create
from tests.fakes.webhook_receiver import FakeReceiver

pytestmark = pytest.mark.slow


@pytest.fixture
def alpha_receiver(tenants, committed_db):
    alpha = Client.objects.get(slug="alpha")
    with FakeReceiver(secret=alpha.n8n_webhook_secret) as receiver:
        outbound_url_set(client=alpha, url=receiver.url)
        yield receiver
        outbound_url_set(client=alpha, url="")


def test_a_worker_delivers_each_event_after_commit_in_order(alpha_receiver, celery_worker_process):
    receiver = alpha_receiver
    receiver.answer_next("hang", seconds=30)  # the first POST gets no answer: the caller must not notice
    with schema_context("alpha"):
        dataset = dataset_create(name="Worked")
        lead = Lead.objects.create(dataset=dataset, first_name="Ann", phone_number="+447700900001")
        started = time.monotonic()
        with transaction.atomic():
            lead_happened(lead=lead, kind=Happening.REPLIED, at=timezone.now(), data={"n": 1})
            lead_happened(lead=lead, kind=Happening.HOT, at=timezone.now(), data={"n": 2})
            assert receiver.requests == []  # nothing leaves before the commit
        assert time.monotonic() - started < 2

        replied = WebhookDelivery.objects.get(event_type="lead.replied")
        _wait(lambda: WebhookDelivery.objects.filter(pk=replied.pk, attempts=1).exclude(last_error="").exists())
        time.sleep(2)  # the lead's HOT task ran meanwhile, and waits behind the unanswered event
        [first] = receiver.requests
        assert first.body["type"] == "lead.replied" and first.signed
        hot = WebhookDelivery.objects.get(event_type="lead.hot")
        assert (hot.status, hot.attempts) == ("pending", 0)

        # The retry a minute on (the beat's job) is answered; the worker then sends the lead's next event.
        replied.refresh_from_db()
        assert webhook_delivery_attempt(delivery_id=replied.pk, at=replied.next_attempt_at).word == "delivered"
        _wait(lambda: len(receiver.accepted) == 2)
        assert [event["type"] for event in receiver.accepted] == ["lead.replied", "lead.hot"]
        assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def _wait(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
