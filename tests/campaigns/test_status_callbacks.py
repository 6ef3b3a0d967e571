"""Twilio status callbacks at /webhooks/twilio/status/: signed, forward-only, kept once each."""

import random
import time

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from twilio.request_validator import RequestValidator

from campaigns.models import Conversation, Message, MessageStatusEvent
from campaigns.outbox.callbacks import message_callback_sid, message_status_catch_up
from campaigns.transports import simulator
from campaigns.transports.simulator import SIMULATED_FAILURES, SimulatorTransport
from clients.access import client_url
from leads.models import Dataset, Lead, LeadEvent, Suppression
from leads.services import dataset_create

TOKEN = "status-test-token"
PATH = "/webhooks/twilio/status/"
SID = "SM" + "a" * 32


@pytest.fixture
def signed(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN


def _message(*, status=Message.Status.SENT, sid: str | None = SID, phone="+447700900123", dataset=None) -> Message:
    dataset = dataset or Dataset.objects.filter(name="Callbacks").first() or dataset_create(name="Callbacks")
    lead = Lead.objects.create(
        dataset=dataset, first_name="Ann", phone_number=phone, next_step="M2", due_at=timezone.now()
    )
    conversation = Conversation.objects.create(lead=lead, dataset=dataset)
    return Message.objects.create(
        conversation=conversation,
        lead=lead,
        content="Hi Ann. Reply STOP to opt out",
        direction="outbound",
        message_type="M1",
        to_number=phone,
        from_number="+447700900999",
        status=status,
        twilio_sid=sid,
        twilio_status="queued" if sid else None,
        sent_at=timezone.now() if sid else None,
    )


def _params(status: str, sid: str = SID, code: str | None = None) -> dict:
    return simulator.callback_params(sid=sid, status=status, to="+447700900123", from_="+447700900999", error_code=code)


def _post(client, tenant, params: dict, *, message: Message | None = None, token: str | None = TOKEN):
    path = PATH + (f"?message={message.pk}" if message else "")
    headers = {}
    if token:
        headers["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(token).compute_signature(client_url(tenant, path), params)
    response = client.post(path, params, HTTP_HOST=tenant.get_primary_domain().domain, **headers)
    connection.set_tenant(tenant)  # the request left the connection in its own tenant state
    return response


def _lead_events(message: Message, event_type: str) -> int:
    return LeadEvent.objects.filter(lead=message.lead, event_type=event_type).count()


# --- signature ---------------------------------------------------------------------------


def test_it_accepts_a_signed_callback(client, alpha, signed):
    message = _message()

    response = _post(client, alpha, _params("sent"), message=message)

    assert response.status_code == 200 and response.content == b""
    message.refresh_from_db()
    assert (message.status, message.twilio_status) == ("sent", "sent")
    assert MessageStatusEvent.objects.get().message == message


def test_it_refuses_an_unsigned_callback(client, alpha, signed):
    message = _message()

    response = _post(client, alpha, _params("delivered"), message=message, token=None)

    assert response.status_code == 403
    assert not MessageStatusEvent.objects.exists()
    message.refresh_from_db()
    assert message.status == "sent"


def test_it_refuses_a_wrong_signature(client, alpha, signed):
    message = _message()

    response = _post(client, alpha, _params("delivered"), message=message, token="someone-elses-token")

    assert response.status_code == 403
    assert not MessageStatusEvent.objects.exists()


def test_it_refuses_a_signature_for_other_parameters(client, alpha, signed):
    message, params = _message(), _params("delivered")
    path = f"{PATH}?message={message.pk}"
    signature = RequestValidator(TOKEN).compute_signature(client_url(alpha, path), params)

    response = client.post(
        path, {**params, "MessageStatus": "failed"}, HTTP_HOST="alpha.localhost", HTTP_X_TWILIO_SIGNATURE=signature
    )

    assert response.status_code == 403


def test_it_refuses_every_callback_when_no_token_is_configured_for_twilio(client, alpha, settings):
    settings.DBR_SMS_BACKEND, settings.TWILIO_AUTH_TOKEN = "twilio", None
    message = _message()

    response = _post(client, alpha, _params("delivered"), message=message, token="dbr-simulator-dev-token")

    assert response.status_code == 403


def test_it_answers_only_post(client, alpha, signed):
    assert client.get(PATH, HTTP_HOST="alpha.localhost").status_code == 405


# --- ordering and repeats ----------------------------------------------------------------


def test_it_keeps_a_message_delivered_when_sent_arrives_late(client, alpha, signed):
    message = _message()

    _post(client, alpha, _params("delivered"), message=message)
    response = _post(client, alpha, _params("sent"), message=message)

    assert response.status_code == 200
    message.refresh_from_db()
    assert (message.status, message.twilio_status) == ("delivered", "delivered")
    assert set(MessageStatusEvent.objects.values_list("status", flat=True)) == {"delivered", "sent"}


def test_it_never_overwrites_a_final_state(client, alpha, signed):
    message = _message()

    _post(client, alpha, _params("undelivered", code="30007"), message=message)
    _post(client, alpha, _params("delivered"), message=message)

    message.refresh_from_db()
    assert (message.status, message.error_code) == ("undelivered", "30007")
    assert message.delivered_at is None
    assert _lead_events(message, "delivered") == 0


def test_it_keeps_a_repeated_callback_once(client, alpha, signed):
    message = _message()

    first = _post(client, alpha, _params("delivered"), message=message)
    again = _post(client, alpha, _params("delivered"), message=message)

    assert (first.status_code, again.status_code) == (200, 200)
    assert MessageStatusEvent.objects.filter(twilio_sid=SID, status="delivered").count() == 1
    assert _lead_events(message, "delivered") == 1


def test_it_keeps_a_callback_for_an_unknown_sid(client, alpha, signed):
    response = _post(client, alpha, _params("delivered", sid="SM" + "9" * 32))

    assert response.status_code == 200
    event = MessageStatusEvent.objects.get()
    assert (event.twilio_sid, event.status, event.message) == ("SM" + "9" * 32, "delivered", None)


def test_it_refuses_an_unsigned_callback_for_an_unknown_sid(client, alpha, signed):
    assert _post(client, alpha, _params("delivered", sid="SM" + "9" * 32), token=None).status_code == 403


def test_it_finds_the_message_by_sid_without_our_id(client, alpha, signed):
    message = _message()

    _post(client, alpha, _params("delivered"))

    message.refresh_from_db()
    assert message.status == "delivered"


def test_it_ignores_a_malformed_message_id(client, alpha, signed):
    message = _message()
    params = _params("delivered")
    path = f"{PATH}?message=not-a-uuid"
    signature = RequestValidator(TOKEN).compute_signature(client_url(alpha, path), params)

    response = client.post(path, params, HTTP_HOST="alpha.localhost", HTTP_X_TWILIO_SIGNATURE=signature)

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == "delivered"  # found by its SID instead


def test_it_holds_callbacks_until_the_send_is_recorded(client, alpha, signed):
    # given: Twilio answers a callback before the send task has stored the SID
    message = _message(status=Message.Status.SENDING, sid=None)
    _post(client, alpha, _params("delivered"), message=message)
    message.refresh_from_db()
    assert (message.status, message.twilio_sid) == ("sending", None)
    assert message_callback_sid(message=message) == SID

    # when: the send service records the answer and catches up
    Message.objects.filter(pk=message.pk).update(status="sent", twilio_sid=SID, twilio_status="queued")
    message = message_status_catch_up(message=message, now=timezone.now())

    # then
    assert (message.status, message.twilio_status) == ("delivered", "delivered")
    assert message.delivered_at is not None
    assert _lead_events(message, "delivered") == 1


def test_it_catches_up_with_callbacks_that_named_only_the_sid(client, alpha, signed):
    _post(client, alpha, _params("sent"))  # no message id, SID not recorded yet: kept unattached
    message = _message(sid=SID)

    message = message_status_catch_up(message=message, now=timezone.now())

    assert message.twilio_status == "sent"
    assert MessageStatusEvent.objects.get().message == message


# --- what a final state does to the message and the lead ----------------------------------


def test_it_sets_delivered_at_and_writes_a_lead_event(client, alpha, signed):
    message = _message()

    _post(client, alpha, _params("delivered"), message=message)

    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at is not None
    event = LeadEvent.objects.get(lead=message.lead, event_type="delivered")
    assert event.data == {"message_id": str(message.pk), "sid": SID}


def test_it_marks_the_lead_undeliverable_on_30003(client, alpha, signed):
    message = _message()

    _post(client, alpha, _params("undelivered", code="30003"), message=message)

    message.refresh_from_db()
    assert (message.status, message.error_code) == ("undelivered", "30003")
    assert "unreachable" in message.error_message
    lead = Lead.objects.get(pk=message.lead_id)
    assert lead.sms_capable is False
    assert lead.sms_capable_reason == message.error_message
    assert lead.due_at is None
    assert LeadEvent.objects.get(lead=lead, event_type="failed").data["error_code"] == "30003"


def test_it_leaves_the_lead_alone_on_carrier_filtering(client, alpha, signed):
    message = _message()

    _post(client, alpha, _params("undelivered", code="30007"), message=message)

    lead = Lead.objects.get(pk=message.lead_id)
    assert lead.sms_capable is True and lead.due_at is not None
    assert _lead_events(message, "failed") == 1


def test_it_suppresses_the_number_on_21610(client, alpha, signed):
    message = _message()

    _post(client, alpha, _params("failed", code="21610"), message=message)

    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", "21610")
    suppression = Suppression.objects.get(phone_number="+447700900123")
    assert suppression.source == "twilio_21610"
    assert Lead.objects.get(pk=message.lead_id).contact_status == "REMOVED"


def test_it_pauses_the_campaign_when_carriers_filter_too_much(client, alpha, signed):
    dataset = dataset_create(name="Filtered")
    Dataset.objects.filter(pk=dataset.pk).update(campaign_status="active")
    messages = [_message(sid=f"SM{n:032d}", phone=f"+4477009001{n:02d}", dataset=dataset) for n in range(20)]

    for n, message in enumerate(messages[:6]):
        _post(client, alpha, _params("undelivered", sid=message.twilio_sid, code="30007"), message=message)
        dataset.refresh_from_db()
        if n < 5:
            assert dataset.campaign_status == "active"  # 5 of the last 100 is not past 5%

    assert dataset.campaign_status == "paused"
    assert "filtered 6 of the last 100" in dataset.campaign_paused_reason


def test_it_never_pauses_for_unreachable_handsets(client, alpha, signed):
    dataset = dataset_create(name="Unreachable")
    Dataset.objects.filter(pk=dataset.pk).update(campaign_status="active")
    for n in range(8):
        message = _message(sid=f"SM{n:032d}", phone=f"+4477009002{n:02d}", dataset=dataset)
        _post(client, alpha, _params("undelivered", sid=message.twilio_sid, code="30003"), message=message)

    dataset.refresh_from_db()
    assert dataset.campaign_status == "active"


# --- the simulator end to end ---------------------------------------------------------------


def test_it_simulates_a_failure_with_a_realistic_code(monkeypatch):
    scheduled = []
    monkeypatch.setattr(simulator, "schedule_callbacks", lambda **kw: scheduled.append(kw))

    SimulatorTransport(failure_rate=1.0, rng=random.Random(3)).send(
        to="+447700900123",
        from_="+447700900999",
        body="Hi",
        status_callback="http://a.localhost/x",
        validity_period=None,
    )

    [call] = scheduled
    assert (call["final"], call["error_code"]) in SIMULATED_FAILURES


def test_it_calls_back_on_127_0_0_1_with_the_public_host():
    target, host = simulator.internal_target("http://alpha.localhost:8123/webhooks/twilio/status/?message=1")

    assert (target, host) == ("http://127.0.0.1:8123/webhooks/twilio/status/?message=1", "alpha.localhost:8123")


@pytest.mark.slow
def test_it_plays_signed_callbacks_that_the_webhook_accepts(tenants, live_server_port, celery_worker_thread, settings):
    alpha = tenants["alpha"]
    settings.DBR_SMS_BACKEND, settings.TWILIO_AUTH_TOKEN = "simulator", None  # both sides use the dev token
    transport = SimulatorTransport(failure_rate=0.0, delay=0.2)

    with schema_context(alpha.schema_name):
        connection.set_tenant(alpha)
        message = _message(status=Message.Status.SENDING, sid=None)
        callback = client_url(alpha, f"{PATH}?message={message.pk}")
        result = transport.send(
            to=message.to_number,
            from_=message.from_number,
            body=message.content,
            status_callback=callback,
            validity_period=None,
        )
        Message.objects.filter(pk=message.pk).update(status="sent", twilio_sid=result.sid, twilio_status="queued")
        message_status_catch_up(message=message, now=timezone.now())

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            message.refresh_from_db()
            if message.status == "delivered":
                break
            time.sleep(0.2)

        assert message.status == "delivered"
        assert set(MessageStatusEvent.objects.filter(twilio_sid=result.sid).values_list("status", flat=True)) == {
            "sent",
            "delivered",
        }
        assert _lead_events(message, "delivered") == 1
