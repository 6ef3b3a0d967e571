"""The SMS transports: the real twilio SDK against a local fake Twilio, and the other backends."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from campaigns.transports import get_transport
from campaigns.transports.base import TransportError
from campaigns.transports.locmem import LocmemTransport
from campaigns.transports.simulator import SimulatorTransport
from campaigns.transports.twilio import TwilioTransport

TO, FROM = "+447700900123", "+447700900999"
CALLBACK = "http://alpha.localhost:8000/webhooks/twilio/status/?message=0b7d2c2e-0000-4000-8000-000000000001"


def _send(body: str = "Hi Ann, it's Sophie from Alpha Solar. Reply STOP to opt out", to: str = TO):
    return get_transport().send(to=to, from_=FROM, body=body, status_callback=CALLBACK, validity_period=3600)


def _error(call) -> TransportError:
    with pytest.raises(TransportError) as caught:
        call()
    return caught.value


# --- Twilio through the SDK ------------------------------------------------------------------


def test_it_sends_through_the_sdk_to_the_fake(fake_twilio):
    result = _send()

    assert result.sid.startswith("SM") and len(result.sid) == 34
    assert result.status == "queued"
    [received] = fake_twilio.messages
    assert received["sid"] == result.sid
    assert (received["to"], received["from"]) == (TO, FROM)
    assert received["body"] == "Hi Ann, it's Sophie from Alpha Solar. Reply STOP to opt out"
    assert received["status_callback"] == CALLBACK
    assert received["validity_period"] == "3600"


def test_it_leaves_out_what_is_not_given(fake_twilio):
    get_transport().send(to=TO, from_=FROM, body="Hello", status_callback=None, validity_period=None)

    [received] = fake_twilio.messages
    assert received["status_callback"] is None and received["validity_period"] is None


def test_it_treats_a_500_as_ambiguous(fake_twilio):
    fake_twilio.fail_next("500")

    error = _error(_send)

    assert error.kind == "ambiguous" and error.status == 500


def test_it_retries_a_429(fake_twilio):
    fake_twilio.fail_next("429")

    error = _error(_send)

    assert (error.kind, error.code, error.status) == ("retry", "20429", 429)
    assert fake_twilio.messages == []


def test_it_treats_a_timeout_as_ambiguous_within_the_timeout(fake_twilio):
    fake_twilio.fail_next("delay", seconds=30)

    started = time.monotonic()
    error = _error(_send)

    assert error.kind == "ambiguous"
    assert time.monotonic() - started < 3  # TWILIO_TIMEOUT_SECONDS is 1 in the fixture


def test_it_treats_a_dropped_connection_as_ambiguous(fake_twilio):
    fake_twilio.fail_next("drop")

    assert _error(_send).kind == "ambiguous"


def test_it_treats_a_garbage_answer_as_ambiguous(fake_twilio):
    fake_twilio.fail_next("garbage")

    assert _error(_send).kind == "ambiguous"


def test_it_retries_when_the_connection_is_refused(fake_twilio):
    fake_twilio.stop()

    error = _error(_send)

    assert error.kind == "retry"


def test_it_gives_up_on_an_invalid_number_with_its_code(fake_twilio):
    fake_twilio.reject_number(TO, 21211)

    error = _error(_send)

    assert (error.kind, error.code, error.status) == ("permanent", "21211", 400)
    assert not error.account_error
    assert fake_twilio.messages == []


def test_it_marks_bad_credentials_as_an_account_error(fake_twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "not-the-token"

    error = _error(_send)

    assert (error.kind, error.code, error.status) == ("permanent", "20003", 401)
    assert error.account_error


@pytest.mark.parametrize(("code", "account"), [("21606", True), ("21408", True), ("21610", False), ("21614", False)])
def test_it_knows_which_permanent_errors_are_the_senders(fake_twilio, code, account):
    fake_twilio.fail_next("error", code=int(code))

    error = _error(_send)

    assert (error.kind, error.code, error.account_error) == ("permanent", code, account)


def test_it_finds_a_message_the_provider_holds(fake_twilio):
    # given: the send timed out, yet Twilio kept the message
    before = datetime.now(UTC)
    fake_twilio.fail_next("delay", seconds=30, store=True)
    _error(lambda: _send(body="The lost one"))
    fake_twilio.add_message(to=TO, from_=FROM, body="Older text", date_created=before - timedelta(days=2))

    # when
    sid = get_transport().find_sent(to=TO, from_=FROM, sent_after=before, body="The lost one")

    # then
    assert sid == fake_twilio.messages[0]["sid"]


def test_it_finds_nothing_when_the_provider_has_no_such_message(fake_twilio):
    before = datetime.now(UTC)
    fake_twilio.add_message(to=TO, from_=FROM, body="The lost one", date_created=before - timedelta(days=2))
    _send(body="Another text")

    assert get_transport().find_sent(to=TO, from_=FROM, sent_after=before, body="The lost one") is None


def test_it_pages_through_the_providers_list(fake_twilio):
    before = datetime.now(UTC)
    fake_twilio.add_message(to=TO, from_=FROM, body="Needle", date_created=before)
    for n in range(150):
        fake_twilio.add_message(to=TO, from_=FROM, body=f"Hay {n}", date_created=before + timedelta(seconds=n + 1))

    assert get_transport().find_sent(to=TO, from_=FROM, sent_after=before, body="Needle") is not None
    assert len([r for r in fake_twilio.requests if r[0] == "GET"]) == 2


def test_it_maps_errors_of_the_reconciliation_list_too(fake_twilio):
    fake_twilio.fail_next("500")

    error = _error(lambda: get_transport().find_sent(to=TO, from_=FROM, sent_after=datetime.now(UTC), body="x"))

    assert error.kind == "ambiguous"


def test_it_leaves_no_thread_or_socket_when_the_fake_stops():
    import threading

    from tests.fakes.twilio_server import FakeTwilio

    threads = set(threading.enumerate())
    with FakeTwilio() as fake:
        fake.fail_next("delay", seconds=30)
        transport = TwilioTransport(
            account_sid=fake.account_sid, auth_token=fake.auth_token, base_url=fake.base_url, timeout=0.3
        )
        _error(lambda: transport.send(to=TO, from_=FROM, body="x", status_callback=None, validity_period=None))
    assert set(threading.enumerate()) <= threads


# --- choice and the other backends -----------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "cls"), [("twilio", TwilioTransport), ("simulator", SimulatorTransport), ("locmem", LocmemTransport)]
)
def test_it_picks_the_transport_from_the_settings(settings, backend, cls):
    settings.DBR_SMS_BACKEND = backend
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC" + "1" * 32, "token"

    assert isinstance(get_transport(), cls)


def test_it_refuses_an_unknown_backend(settings):
    settings.DBR_SMS_BACKEND = "carrier-pigeon"

    with pytest.raises(ImproperlyConfigured, match="carrier-pigeon"):
        get_transport()


def test_it_refuses_twilio_without_credentials(settings):
    settings.DBR_SMS_BACKEND, settings.TWILIO_ACCOUNT_SID = "twilio", None

    with pytest.raises(ImproperlyConfigured, match="TWILIO_ACCOUNT_SID"):
        get_transport()


def test_it_keeps_locmem_messages_in_the_outbox(settings, sms_outbox):
    settings.DBR_SMS_BACKEND = "locmem"

    result = _send()

    [kept] = sms_outbox.messages
    assert (kept.sid, kept.to, kept.status_callback, kept.validity_period) == (result.sid, TO, CALLBACK, 3600)
    assert get_transport().find_sent(to=TO, from_=FROM, sent_after=kept.sent_at, body=kept.body) == result.sid


def test_it_makes_locmem_fail_when_told(settings, sms_outbox):
    settings.DBR_SMS_BACKEND = "locmem"
    sms_outbox.fail_next(TransportError("boom", kind="ambiguous"))

    assert _error(_send).kind == "ambiguous"
    assert _send().sid  # only the next send failed
    assert len(sms_outbox.messages) == 1


def test_it_accepts_simulated_messages_without_callbacks(settings):
    settings.DBR_SMS_BACKEND = "simulator"

    result = get_transport().send(to=TO, from_=FROM, body="Hello", status_callback=None, validity_period=None)

    assert result.sid.startswith("SM") and len(result.sid) == 34
    assert get_transport().find_sent(to=TO, from_=FROM, sent_after=datetime.now(UTC), body="Hello") == result.sid
