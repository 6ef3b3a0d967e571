"""Cal.com bookings: the client's own signature, each delivery kept once, every trigger, matching, leftovers."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from campaigns.cal import cal_sign
from clients.models import Client, Notification
from leads import bookings
from leads.models import BookingEvent, Lead, LeadEvent
from tests.campaigns.helpers import campaign_dataset

ALPHA = {"HTTP_HOST": "alpha.localhost"}
BETA = {"HTTP_HOST": "beta.localhost"}
CAL_LINK = "https://cal.com/alpha/survey"
START = "2026-12-03T11:00:00Z"
MOVED = "2026-12-04T15:30:00Z"


def delivery(trigger="BOOKING_CREATED", *, uid="bk-1", start=START, lead=None, email="", phone="", **payload) -> bytes:
    """A webhook body shaped as Cal.com sends it (triggerEvent, createdAt, payload.uid/startTime/attendees/metadata)."""
    attendee = {"name": "Sam Lead", "email": email, "timeZone": "Europe/London"}
    if phone:
        attendee["phoneNumber"] = phone
    body = {
        "triggerEvent": trigger,
        "createdAt": "2026-12-01T10:00:00.000Z",
        "payload": {
            "type": "survey",
            "title": "Survey call",
            "startTime": start,
            "endTime": start,
            "uid": uid,
            "bookingId": 42,
            "attendees": [attendee],
            "organizer": {"name": "Alpha", "email": "team@alpha.example", "timeZone": "Europe/London"},
            "metadata": {"leadId": str(lead.pk)} if lead else {},
            "status": "ACCEPTED",
            **payload,
        },
    }
    return json.dumps(body).encode()


def post(client, body: bytes, *, secret: str | None = "", host=ALPHA):
    """POSTs to /webhooks/cal/ signed with `secret` ("" = the alpha client's own, None = unsigned)."""
    if secret == "":
        secret = Client.objects.get(slug="alpha").cal_webhook_secret
    headers = {"HTTP_X_CAL_SIGNATURE_256": cal_sign(secret, body)} if secret is not None else {}
    return client.post("/webhooks/cal/", data=body, content_type="application/json", **headers, **host)


@pytest.fixture
def lead(alpha):
    dataset = campaign_dataset(name="Bookings", leads=3, cal_booking_link=CAL_LINK)
    lead = dataset.leads.get(first_name="Lead0")
    Lead.objects.filter(pk=lead.pk).update(email="lead0@example.com", contact_status="HOT", next_step="M2")
    lead.refresh_from_db()
    return lead


@pytest.fixture
def told(monkeypatch):
    """The lead events recorded for the outside world (n8n), as (kind, lead id, data)."""
    seen = []
    real = bookings.lead_happened

    def record(*, lead, kind, at, data=None):
        seen.append((kind, lead.pk, data))
        return real(lead=lead, kind=kind, at=at, data=data)

    monkeypatch.setattr(bookings, "lead_happened", record)
    return seen


def notifications(kind: str) -> list[Notification]:
    with schema_context("public"):
        return list(Notification.objects.filter(kind=kind))


# --- the signature ------------------------------------------------------------------------------


def test_it_refuses_an_unsigned_delivery(lead, client):
    assert post(client, delivery(lead=lead), secret=None).status_code == 403
    assert not BookingEvent.objects.exists()


def test_it_refuses_a_delivery_signed_with_another_clients_secret(lead, beta, client):
    assert post(client, delivery(lead=lead), secret=beta.cal_webhook_secret).status_code == 403
    assert post(client, delivery(lead=lead), secret="not-the-secret").status_code == 403
    assert not BookingEvent.objects.exists()


def test_it_refuses_everything_when_the_client_has_no_secret(lead, alpha, client):
    Client.objects.filter(pk=alpha.pk).update(cal_webhook_secret="")
    try:
        assert post(client, delivery(lead=lead), secret="").status_code == 403
    finally:
        Client.objects.filter(pk=alpha.pk).update(cal_webhook_secret=alpha.cal_webhook_secret)


def test_it_takes_a_delivery_signed_with_the_clients_secret(lead, client):
    response = post(client, delivery(lead=lead))
    assert response.status_code == 200, response.content
    assert BookingEvent.objects.get().outcome == "applied"


def test_malformed_json_is_a_400(lead, client):
    assert post(client, b"{not json").status_code == 400
    assert post(client, b'{"triggerEvent": "BOOKING_CREATED"}').status_code == 400
    assert post(client, b"[1, 2]").status_code == 400
    assert not BookingEvent.objects.exists()


def test_a_ping_is_answered_and_changes_nothing(lead, client):
    body = json.dumps({"triggerEvent": "PING", "createdAt": "2026-12-01T10:00:00Z", "payload": {}}).encode()
    assert post(client, body).status_code == 200
    assert not BookingEvent.objects.exists()


# --- the triggers ---------------------------------------------------------------------------------


def test_a_booking_makes_the_lead_call_booked_with_time_id_and_url(lead, client, owner, told):
    assert post(client, delivery(lead=lead)).status_code == 200

    lead.refresh_from_db()
    assert lead.contact_status == "CALL_BOOKED" and lead.call_booked
    assert lead.call_booked_time == datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    assert (lead.cal_booking_id, lead.cal_booking_url) == ("bk-1", "https://cal.com/booking/bk-1")
    assert (lead.next_step, lead.due_at) == (None, None)  # out of the cadence
    event = LeadEvent.objects.get(lead=lead, event_type="call_booked")
    assert event.data == {"booking_id": "bk-1", "start": "2026-12-03T11:00:00+00:00"}
    [note] = notifications("booked")
    assert note.user == owner and note.lead_id == lead.pk and "Lead0" in note.title
    assert told == [("lead.booked", lead.pk, {**told[0][2], "booking_id": "bk-1", "rescheduled": False})]


def test_a_replayed_delivery_has_one_effect(lead, client, owner, told):
    body = delivery(lead=lead)
    assert post(client, body).status_code == 200
    assert post(client, body).status_code == 200
    assert post(client, body).content == b"Already received."

    assert BookingEvent.objects.count() == 1
    assert LeadEvent.objects.filter(lead=lead, event_type="call_booked").count() == 1
    assert len(notifications("booked")) == 1 and len(told) == 1


def test_a_reschedule_moves_the_call(lead, client, owner):
    post(client, delivery(lead=lead))
    response = post(client, delivery("BOOKING_RESCHEDULED", uid="bk-2", start=MOVED, rescheduleUid="bk-1"))

    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.contact_status == "CALL_BOOKED"
    assert lead.call_booked_time == datetime(2026, 12, 4, 15, 30, tzinfo=UTC)
    assert lead.cal_booking_id == "bk-2"
    assert BookingEvent.objects.get(uid="bk-2").lead == lead


def test_a_cancellation_makes_the_lead_hot_again_and_tells_the_rep(lead, client, owner):
    post(client, delivery(lead=lead))
    assert post(client, delivery("BOOKING_CANCELLED", lead=lead)).status_code == 200

    lead.refresh_from_db()
    assert lead.contact_status == "HOT" and not lead.call_booked
    assert (lead.call_booked_time, lead.cal_booking_id) == (None, None)
    [note] = notifications("booking_cancelled")
    assert note.user == owner and "cancelled" in note.title
    assert not notifications("hot")  # told once, precisely


def test_a_cancellation_of_a_replaced_booking_changes_nothing(lead, client, owner):
    post(client, delivery(lead=lead))
    post(client, delivery("BOOKING_RESCHEDULED", uid="bk-2", start=MOVED, rescheduleUid="bk-1", lead=lead))
    post(client, delivery("BOOKING_CANCELLED", uid="bk-1", lead=lead))

    lead.refresh_from_db()
    assert (lead.contact_status, lead.cal_booking_id) == ("CALL_BOOKED", "bk-2")
    assert BookingEvent.objects.get(uid="bk-1", trigger_event="BOOKING_CANCELLED").outcome == "ignored"


def test_a_cancellation_before_its_booking_waits_then_applies(lead, client, owner):
    assert post(client, delivery("BOOKING_CANCELLED", lead=lead)).status_code == 200
    waiting = BookingEvent.objects.get()
    assert waiting.outcome == "waiting"
    lead.refresh_from_db()
    assert lead.contact_status == "HOT"

    post(client, delivery(lead=lead))

    lead.refresh_from_db()
    assert lead.contact_status == "HOT" and not lead.call_booked
    assert set(BookingEvent.objects.values_list("outcome", flat=True)) == {"applied"}
    assert len(notifications("booking_cancelled")) == 1


# --- matching ---------------------------------------------------------------------------------------


def test_metadata_wins_over_email_and_phone(lead, client):
    others = Lead.objects.exclude(pk=lead.pk).order_by("first_name")
    Lead.objects.filter(pk=others[0].pk).update(email="other@example.com")
    post(client, delivery(lead=lead, email="other@example.com", phone=others[1].phone_number))
    assert BookingEvent.objects.get().lead == lead


def test_email_wins_over_phone(lead, client):
    other = Lead.objects.exclude(pk=lead.pk).order_by("first_name").first()
    post(client, delivery(email="LEAD0@example.com", phone=other.phone_number))
    assert BookingEvent.objects.get().lead == lead


def test_a_phone_number_matches_when_written_another_way(lead, client):
    other = Lead.objects.get(first_name="Lead1")  # +447700900101
    post(client, delivery(email="nobody@example.com", phone="07700 900101"))
    assert BookingEvent.objects.get().lead == other
    assert Lead.objects.get(pk=other.pk).contact_status == "CALL_BOOKED"


def test_the_phone_answer_in_the_booking_form_matches_too(lead, client):
    post(client, delivery(responses={"attendeePhoneNumber": {"value": "+447700900102"}}))
    assert BookingEvent.objects.get().lead.first_name == "Lead2"


def test_an_unknown_lead_is_kept_for_staff_and_listed_in_the_inbox(lead, client, owner, teammate):
    response = post(client, delivery(uid="stranger", email="stranger@example.com", phone="+447700900999"))

    assert response.status_code == 200
    kept = BookingEvent.objects.get()
    assert (kept.outcome, kept.lead) == ("unmatched", None)
    client.force_login(owner)
    page = client.get("/inbox/", **ALPHA).content.decode()
    assert "Bookings no lead took" in page and "stranger@example.com" in page
    client.force_login(teammate)  # a sales rep sees only their own leads
    assert "stranger@example.com" not in client.get("/inbox/", **ALPHA).content.decode()


def test_a_delivery_to_another_client_never_reaches_this_clients_leads(lead, client, beta):
    body = delivery(lead=lead, email=lead.email)
    assert post(client, body, secret=beta.cal_webhook_secret, host=BETA).status_code == 200

    connection.set_tenant(beta)
    assert BookingEvent.objects.get().outcome == "unmatched"
    connection.set_tenant(Client.objects.get(slug="alpha"))
    assert not BookingEvent.objects.exists()
    assert Lead.objects.get(pk=lead.pk).contact_status == "HOT"
