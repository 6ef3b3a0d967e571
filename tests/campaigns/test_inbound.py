"""Inbound texts at /webhooks/twilio/sms/: signed, stored first, STOP applied in the request, processed once."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from twilio.request_validator import RequestValidator

from campaigns import optout
from campaigns.inbound import inbound_process, inbound_process_pending
from campaigns.models import Conversation, InboundSms, Message
from clients.access import client_url
from leads.models import Lead, LeadEvent, Suppression
from tests.campaigns.helpers import NUMBER, campaign_dataset

TOKEN = "inbound-test-token"
PATH = "/webhooks/twilio/sms/"
LEAD_PHONE = "+447700900100"  # Lead0 of campaign_dataset
OPT_OUT_KEYWORDS = sorted(optout.KEYWORDS)


@pytest.fixture
def signed(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN


@pytest.fixture
def dataset(alpha):
    dataset = campaign_dataset(name="Inbound", leads=3)
    dataset.leads.update(next_step="M2", due_at=timezone.now(), contact_status="CONTACTED_1")
    return dataset


_sids = iter(range(10**6))


def _params(body: str, *, sid: str | None = None, from_: str = "07700 900100", to: str = NUMBER, **extra) -> dict:
    return {
        "MessageSid": sid or f"SM{next(_sids):032d}",
        "AccountSid": "AC" + "0" * 32,
        "From": from_,
        "To": to,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }


def _post(client, tenant, params: dict, *, token: str | None = TOKEN, url: str | None = None):
    headers = {}
    if token:
        url = url or client_url(tenant, PATH)
        headers["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(token).compute_signature(url, params)
    response = client.post(PATH, params, HTTP_HOST=tenant.get_primary_domain().domain, **headers)
    connection.set_tenant(tenant)
    return response


def _process_all() -> None:
    inbound_process_pending(at=timezone.now())


# --- the webhook ---------------------------------------------------------------------------


def test_it_stores_a_signed_text_and_answers_empty_twiml(client, alpha, dataset, signed):
    response = _post(client, alpha, _params("Yes please"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert b"<Response></Response>" in response.content
    row = InboundSms.objects.get()
    assert (row.from_number, row.to_number, row.body, row.processed_at) == (LEAD_PHONE, NUMBER, "Yes please", None)


@pytest.mark.parametrize("token", [None, "another-token"])
def test_it_refuses_an_unsigned_or_wrongly_signed_text(client, alpha, dataset, signed, token):
    response = _post(client, alpha, _params("STOP"), token=token)

    assert response.status_code == 403
    assert not InboundSms.objects.exists() and not Suppression.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://alpha.localhost:8000/webhooks/twilio/sms/",  # scheme
        "http://alpha.localhost:9999/webhooks/twilio/sms/",  # port
        "http://beta.localhost:8000/webhooks/twilio/sms/",  # host
        "http://alpha.localhost:8000/webhooks/twilio/status/",  # path
    ],
)
def test_it_refuses_a_signature_made_for_another_url(client, alpha, dataset, signed, settings, url):
    settings.DBR_PUBLIC_PORT = 8000
    response = _post(client, alpha, _params("hello"), url=url)

    assert response.status_code == 403


@pytest.mark.parametrize("missing", ["From", "MessageSid"])
def test_it_answers_400_when_from_or_sid_is_missing(client, alpha, dataset, signed, missing):
    params = _params("hello")
    del params[missing]

    response = _post(client, alpha, params)

    assert response.status_code == 400
    assert not InboundSms.objects.exists()


def test_a_replayed_sid_changes_nothing(client, alpha, dataset, signed):
    params = _params("Yes please")
    _post(client, alpha, params)
    _process_all()

    response = _post(client, alpha, params)
    _process_all()

    assert response.status_code == 200
    assert InboundSms.objects.count() == 1
    assert Message.objects.filter(direction="inbound").count() == 1


def test_it_keeps_nul_bytes_as_replacement_characters_after_checking_the_raw_signature(client, alpha, dataset, signed):
    response = _post(client, alpha, _params("a\x00b"))

    assert response.status_code == 200
    assert InboundSms.objects.get().body == "a\ufffdb"


@pytest.mark.parametrize(
    "body", ["x" * 1600, "Yes 😀👍 sounds good", "نعم أنا مهتم", "שלום"], ids=["long", "emoji", "arabic", "hebrew"]
)
def test_it_stores_long_emoji_and_right_to_left_bodies(client, alpha, dataset, signed, body):
    _post(client, alpha, _params(body))
    _process_all()

    assert Message.objects.get(direction="inbound").content == body


def test_it_keeps_mms_media_links(client, alpha, dataset, signed):
    params = _params(
        "", NumMedia="2", MediaUrl0="https://api.twilio.com/m/0", MediaContentType0="image/jpeg",
        MediaUrl1="https://api.twilio.com/m/1", MediaContentType1="image/png",
    )  # fmt: skip
    _post(client, alpha, params)

    assert InboundSms.objects.get().media == [
        {"url": "https://api.twilio.com/m/0", "content_type": "image/jpeg"},
        {"url": "https://api.twilio.com/m/1", "content_type": "image/png"},
    ]


# --- STOP inside the request ------------------------------------------------------------------


@pytest.mark.parametrize("keyword", OPT_OUT_KEYWORDS)
@pytest.mark.parametrize("dress", ["{}", "{}.", " {}!! ", "{} 🛑", "'{}'"])
def test_it_applies_an_opt_out_keyword_before_answering(client, alpha, dataset, signed, keyword, dress):
    for body in (dress.format(keyword.lower()), dress.format(keyword.title())):
        Suppression.objects.all().delete()
        Lead.objects.filter(phone_number=LEAD_PHONE).update(contact_status="CONTACTED_1")

        _post(client, alpha, _params(body))  # no worker, no processing

        assert Suppression.objects.filter(phone_number=LEAD_PHONE, source="opt_out").exists(), body
        assert Lead.objects.get(phone_number=LEAD_PHONE).contact_status == "REMOVED"
        assert InboundSms.objects.filter(body=body).get().processed_at is None


def test_a_keyword_from_an_unknown_number_or_to_another_number_still_suppresses(client, alpha, dataset, signed):
    _post(client, alpha, _params("STOP", from_="+447700900555", to="+447700900777"))

    assert Suppression.objects.filter(phone_number="+447700900555").exists()


def test_stop_cancels_texts_still_queued_for_the_number(client, alpha, dataset, signed):
    lead = Lead.objects.get(phone_number=LEAD_PHONE)
    conversation = Conversation.objects.create(lead=lead, dataset=dataset)
    queued = Message.objects.create(
        conversation=conversation, lead=lead, content="M2", direction="outbound", message_type="M2",
        to_number=LEAD_PHONE, from_number=NUMBER, status="pending",
    )  # fmt: skip

    _post(client, alpha, _params("Stop"))

    queued.refresh_from_db()
    assert queued.status == Message.Status.CANCELLED
    assert "opted out" in queued.error_message


# --- processing --------------------------------------------------------------------------------


def test_a_reply_joins_the_conversation_and_stops_the_cadence(
    client, alpha, dataset, signed, django_capture_on_commit_callbacks
):
    _post(client, alpha, _params("Yes please, what's next?"))

    with django_capture_on_commit_callbacks(execute=True):
        _process_all()

    lead = Lead.objects.get(phone_number=LEAD_PHONE)
    message = Message.objects.get(direction="inbound")
    assert (message.lead, message.status, message.content) == (lead, "received", "Yes please, what's next?")
    assert (lead.next_step, lead.due_at, lead.latest_lead_reply) == (None, None, "Yes please, what's next?")
    assert lead.reply_received_at is not None and lead.total_messages == 1
    assert LeadEvent.objects.filter(lead=lead, event_type="replied").exists()
    row = InboundSms.objects.get()
    assert (row.outcome, row.lead, row.message) == ("matched", lead, message)
    # Sophie classified it in the same process and set the status
    assert message.classification["status"] == "HOT"
    assert lead.contact_status == "HOT"


def test_an_unknown_number_is_kept_as_unmatched(client, alpha, dataset, signed):
    _post(client, alpha, _params("who is this?", from_="+447700900555"))
    _process_all()

    row = InboundSms.objects.get()
    assert (row.outcome, row.lead, row.processed_at is not None) == ("unmatched", None, True)


def test_a_sender_that_is_not_a_phone_number_is_kept_as_unmatched(client, alpha, dataset, signed):
    _post(client, alpha, _params("Your code is 1234", from_="VERIFY"))
    _process_all()

    row = InboundSms.objects.get()
    assert (row.from_number, row.outcome) == ("VERIFY", "unmatched")


def test_a_text_to_a_number_that_is_not_ours_is_not_a_reply(client, alpha, dataset, signed):
    _post(client, alpha, _params("Yes please", to="+447700900777"))
    _process_all()

    assert InboundSms.objects.get().outcome == "foreign_to"
    assert not Message.objects.filter(direction="inbound").exists()
    assert Lead.objects.get(phone_number=LEAD_PHONE).next_step == "M2"


def test_a_carrier_auto_reply_is_not_a_reply(client, alpha, dataset, signed):
    _post(client, alpha, _params("This number does not accept SMS messages."))
    _process_all()

    assert InboundSms.objects.get().outcome == "auto_reply"
    assert Lead.objects.get(phone_number=LEAD_PHONE).next_step == "M2"


def test_the_lead_texted_last_wins_across_datasets(client, alpha, dataset, signed):
    other = campaign_dataset(name="Older", leads=1)  # Lead0 there has the same number
    texted = Lead.objects.get(dataset=other, phone_number=LEAD_PHONE)
    conversation = Conversation.objects.create(lead=texted, dataset=other)
    Message.objects.create(
        conversation=conversation, lead=texted, content="M1", direction="outbound", message_type="M1",
        to_number=LEAD_PHONE, status="sent", sent_at=timezone.now(),
    )  # fmt: skip

    _post(client, alpha, _params("yes"))
    _process_all()

    assert InboundSms.objects.get().lead == texted


def test_an_opt_out_phrase_suppresses_and_queues_one_confirmation(client, alpha, dataset, signed):
    _post(client, alpha, _params("please remove me from your list"))
    _process_all()

    assert Suppression.objects.get(phone_number=LEAD_PHONE).source == "opt_out"
    assert Lead.objects.get(phone_number=LEAD_PHONE).contact_status == "REMOVED"
    confirmation = Message.objects.get(message_type="opt_out_confirmation")
    assert (confirmation.to_number, confirmation.from_number, confirmation.status) == (LEAD_PHONE, NUMBER, "pending")
    assert alpha.company_name in confirmation.content
    assert InboundSms.objects.get().outcome == "opted_out"


@pytest.mark.parametrize("text", ["Don't stop, I'm interested", "stop by whenever you like"])
def test_look_alikes_are_not_opt_outs(client, alpha, dataset, signed, text):
    _post(client, alpha, _params(text))
    _process_all()

    assert not Suppression.objects.exists()


@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_opting_back_in_restores_the_earlier_status_without_the_cadence(client, alpha, dataset, signed, word):
    _post(client, alpha, _params("STOP"))
    _post(client, alpha, _params(word))
    _process_all()

    lead = Lead.objects.get(phone_number=LEAD_PHONE)
    assert not Suppression.objects.exists()
    assert (lead.contact_status, lead.next_step, lead.due_at) == ("CONTACTED_1", None, None)
    assert InboundSms.objects.order_by("received_at").last().outcome == "opted_in"


def test_an_opt_in_followed_by_an_opt_out_stays_out(client, alpha, dataset, signed):
    _post(client, alpha, _params("STOP"))
    _post(client, alpha, _params("START"))
    _post(client, alpha, _params("STOP"))
    _process_all()

    assert Suppression.objects.filter(phone_number=LEAD_PHONE).exists()


def test_an_import_suppression_is_not_lifted_by_start(client, alpha, dataset, signed):
    Suppression.objects.create(phone_number=LEAD_PHONE, source="import")

    _post(client, alpha, _params("START"))
    _process_all()

    assert Suppression.objects.filter(phone_number=LEAD_PHONE, source="import").exists()


def test_a_failing_row_is_retried_then_marked_as_an_error(client, alpha, dataset, signed, monkeypatch):
    _post(client, alpha, _params("Yes please"))
    monkeypatch.setattr("campaigns.inbound._lead_for", lambda number: 1 / 0)
    row = InboundSms.objects.get()

    for _ in range(3):
        inbound_process(inbound_id=row.pk, at=timezone.now())

    row.refresh_from_db()
    assert (row.outcome, row.attempts, row.processed_at is not None) == ("error", 3, True)
    assert "ZeroDivisionError" in row.error


def test_the_process_inbound_command_processes_every_stored_row(client, alpha, dataset, signed, capsys):
    _post(client, alpha, _params("Yes please"))
    _post(client, alpha, _params("no thanks", from_="07700 900101"))

    call_command("process_inbound", "--client", "alpha")

    assert not InboundSms.objects.filter(processed_at=None).exists()
    assert "alpha: 2 inbound text(s) processed." in capsys.readouterr().out


def test_ten_concurrent_replays_store_one_row_and_one_message(live_server_port, tenants, settings):
    import requests

    settings.TWILIO_AUTH_TOKEN = TOKEN
    alpha = tenants["alpha"]
    connection.set_tenant(alpha)
    campaign_dataset(name="Concurrent", leads=1)
    params = _params("Yes please")
    headers = {
        "Host": alpha.get_primary_domain().domain,
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(client_url(alpha, PATH), params),
    }
    answers = []

    def post():
        url = f"http://127.0.0.1:{live_server_port}{PATH}"
        answers.append(requests.post(url, data=params, headers=headers, timeout=30).status_code)

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connection.set_tenant(alpha)
    _process_all()

    assert answers == [200] * 10
    assert InboundSms.objects.count() == 1
    assert Message.objects.filter(direction="inbound").count() == 1
