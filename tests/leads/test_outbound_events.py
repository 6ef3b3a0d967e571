"""Outbound events: one signed row per event for the client's webhook URL, delivered by workers with retries,
in order per lead, against a local receiver that fails and then recovers."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from clients.models import Client
from leads.happenings import Happening, lead_happened
from leads.models import Lead, WebhookDelivery
from leads.outbound import (
    BACKOFF,
    MAX_ATTEMPTS,
    deliveries_due,
    outbound_test_send,
    outbound_url_set,
    webhook_delivery_attempt,
)
from leads.services import lead_status_change
from tests.campaigns.helpers import campaign_dataset
from tests.fakes.webhook_receiver import FakeReceiver

HOST = {"HTTP_HOST": "alpha.localhost"}
Status = WebhookDelivery.Status


@pytest.fixture
def receiver(alpha):
    secret = Client.objects.get(pk=alpha.pk).n8n_webhook_secret
    with FakeReceiver(secret=secret) as fake:
        outbound_url_set(client=alpha, url=fake.url)
        yield fake


def _leads(count=1) -> list[Lead]:
    return list(campaign_dataset(name="Outbound", leads=count).leads.order_by("phone_number"))


def _run_until_settled(start, *, limit=40):
    """Plays the workers and beat with a clock that jumps to the next due attempt; returns the clock."""
    at = start
    for _ in range(limit):
        due = list(deliveries_due(at=at).order_by("created_at").values_list("pk", flat=True))
        for delivery_id in due:
            webhook_delivery_attempt(delivery_id=delivery_id, at=at)
        if not WebhookDelivery.objects.filter(status=Status.PENDING).exists():
            return at
        if not deliveries_due(at=at).exists():
            later = WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__gt=at)
            at = later.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    raise AssertionError("deliveries never settled")


def test_it_writes_one_row_per_event_with_the_documented_body(alpha, receiver):
    [lead] = _leads()
    at = timezone.now()

    lead_status_change(lead=lead, status="HOT", actor=None, reason="wants a call", at=at)

    [row] = WebhookDelivery.objects.all()
    assert row.event_type == "lead.hot" and row.status == Status.PENDING and row.lead_id == lead.pk
    assert row.payload == {
        "id": str(row.event_id),
        "type": "lead.hot",
        "created_at": at.isoformat(),
        "client": {"slug": "alpha", "name": "Alpha Solar Ltd"},
        "lead": {
            "id": str(lead.pk),
            "first_name": "Lead0",
            "last_name": "",
            "phone": lead.phone_number,
            "email": "",
            "status": "HOT",
            "dataset": {"id": str(lead.dataset_id), "name": "Outbound"},
        },
        "data": {"reason": "wants a call"},
    }


def test_it_records_nothing_without_a_url(alpha):
    [lead] = _leads()

    lead_status_change(lead=lead, status="HOT", actor=None)

    assert lead_happened(lead=lead, kind=Happening.REPLIED, at=timezone.now()) is None
    assert not WebhookDelivery.objects.exists()


def test_it_queues_the_delivery_only_after_commit(alpha, receiver, django_capture_on_commit_callbacks):
    [lead] = _leads()

    with django_capture_on_commit_callbacks() as callbacks:
        lead_happened(lead=lead, kind=Happening.REPLIED, at=timezone.now(), data={"text": "yes"})

    assert len(callbacks) == 1 and receiver.requests == []


def test_a_receiver_verifies_the_signature(alpha, receiver):
    [lead] = _leads()
    at = timezone.now()
    row = lead_happened(lead=lead, kind=Happening.REPLIED, at=at, data={"text": "yes ring me"})

    outcome = webhook_delivery_attempt(delivery_id=row.pk, at=at)

    assert outcome.word == "delivered"
    [request] = receiver.requests
    assert request.signed and request.body == row.payload
    assert request.headers["x-dbr-signature"].startswith(f"t={int(at.timestamp())},v1=")
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_status_code, row.delivered_at) == (Status.DELIVERED, 1, 200, at)


def test_a_receiver_with_another_secret_refuses_it(alpha, receiver):
    [lead] = _leads()
    receiver.secret = "whsec_someone_else"
    row = lead_happened(lead=lead, kind=Happening.REPLIED, at=timezone.now())

    outcome = webhook_delivery_attempt(delivery_id=row.pk, at=timezone.now())

    assert outcome.word == "retry" and not receiver.requests[0].signed
    row.refresh_from_db()
    assert row.last_status_code == 401 and "HTTP 401" in row.last_error


def test_a_redirect_is_a_failure_and_is_not_followed(alpha, receiver):
    [lead] = _leads()
    receiver.answer_next("redirect")
    at = timezone.now()
    row = lead_happened(lead=lead, kind=Happening.HOT, at=at)

    assert webhook_delivery_attempt(delivery_id=row.pk, at=at).word == "retry"

    row.refresh_from_db()
    assert row.last_status_code == 302 and "not followed" in row.last_error
    assert row.next_attempt_at == at + BACKOFF[0]
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("kind", ["hang", "slow"])
def test_no_answer_within_5_seconds_is_a_failure(alpha, receiver, kind):
    [lead] = _leads()
    receiver.answer_next(kind, seconds=30)
    row = lead_happened(lead=lead, kind=Happening.HOT, at=timezone.now())

    started = time.monotonic()
    outcome = webhook_delivery_attempt(delivery_id=row.pk, at=timezone.now())

    assert outcome.word == "retry" and 4.5 < time.monotonic() - started < 10
    row.refresh_from_db()
    assert row.status == Status.PENDING and row.attempts == 1 and "5 s" in row.last_error


def test_retries_back_off_then_the_event_fails_after_8_attempts_and_is_shown(alpha, owner, receiver, client):
    [lead] = _leads()
    receiver.answer_next("500", times=MAX_ATTEMPTS)
    start = timezone.now()
    row = lead_happened(lead=lead, kind=Happening.HOT, at=start)

    at, waits = start, []
    for _ in range(MAX_ATTEMPTS):
        webhook_delivery_attempt(delivery_id=row.pk, at=at)
        row.refresh_from_db()
        if row.next_attempt_at:
            waits.append(row.next_attempt_at - at)
            assert webhook_delivery_attempt(delivery_id=row.pk, at=row.next_attempt_at - timedelta(seconds=1)).word == (
                "not due"
            )
            at = row.next_attempt_at

    assert waits == BACKOFF
    assert timedelta(hours=20) < sum(waits, timedelta()) < timedelta(hours=26)
    assert (row.status, row.attempts, row.last_status_code) == (Status.FAILED, 8, 500)
    assert len(receiver.requests) == 8
    client.force_login(owner)
    page = client.get("/settings/", **HOST).content.decode()
    assert "lead.hot" in page and "Failed" in page and "HTTP 500" in page


def test_a_failing_endpoint_recovers_and_each_event_arrives_once_in_order_per_lead(alpha, receiver):
    first, second = _leads(2)
    at = timezone.now()
    # Lead one: replied, then HOT in the same transaction, then handed off; lead two: replied.
    lead_happened(lead=first, kind=Happening.REPLIED, at=at, data={"n": 1})
    lead_happened(lead=first, kind=Happening.HOT, at=at, data={"n": 2})
    lead_happened(lead=second, kind=Happening.REPLIED, at=at, data={"n": 1})
    lead_happened(lead=first, kind=Happening.HANDOFF, at=at, data={"n": 3})
    receiver.answer_next("500")
    receiver.answer_next("redirect")
    receiver.answer_next("hang", seconds=30)
    receiver.answer_next("slow", seconds=30)
    receiver.answer_next("500")

    _run_until_settled(at)

    accepted = receiver.accepted
    assert sorted(event["id"] for event in accepted) == sorted(
        str(event_id) for event_id in WebhookDelivery.objects.values_list("event_id", flat=True)
    )
    assert len({event["id"] for event in accepted}) == 4  # once each
    of_first = [event["data"]["n"] for event in accepted if event["lead"]["id"] == str(first.pk)]
    assert of_first == [1, 2, 3]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}
    assert len(receiver.requests) == 4 + 5


def test_a_younger_event_waits_while_an_older_one_of_the_lead_is_pending(alpha, receiver):
    [lead] = _leads()
    at = timezone.now()
    older = lead_happened(lead=lead, kind=Happening.REPLIED, at=at)
    younger = lead_happened(lead=lead, kind=Happening.HOT, at=at)
    receiver.answer_next("500")
    webhook_delivery_attempt(delivery_id=older.pk, at=at)

    assert webhook_delivery_attempt(delivery_id=younger.pk, at=at).word == "waiting"
    assert list(deliveries_due(at=at + timedelta(seconds=30))) == []
    assert list(deliveries_due(at=at + BACKOFF[0])) == [older]


def test_the_test_event_goes_through_the_same_path(alpha, owner, receiver, client):
    client.force_login(owner)

    response = client.post("/settings/outbound/test/", **HOST)

    assert response.status_code == 302
    [row] = WebhookDelivery.objects.all()
    assert row.event_type == "test.ping" and row.lead_id is None and row.payload["lead"] is None
    assert webhook_delivery_attempt(delivery_id=row.pk, at=timezone.now()).word == "delivered"
    assert receiver.accepted[0]["type"] == "test.ping" and receiver.requests[0].signed


def test_no_test_event_without_a_url(alpha, owner, client):
    client.force_login(owner)

    client.post("/settings/outbound/test/", **HOST)

    assert outbound_test_send(at=timezone.now()) is None
    assert not WebhookDelivery.objects.exists()
