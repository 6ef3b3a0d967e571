"""The lead simulator: only with the simulator backend; texted leads as phones; replies through the real webhook."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from campaigns.models import Conversation, InboundSms, Message
from campaigns.transports import simulator
from clients.models import User
from leads.models import Lead, Suppression
from tests.campaigns.helpers import NUMBER, campaign_dataset
from tests.conftest import PASSWORD

HOST = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def simulator_on(settings):
    settings.DBR_SMS_BACKEND, settings.TWILIO_AUTH_TOKEN = "simulator", None  # both sides sign with the dev token


def texted(
    lead: Lead, text: str, *, minutes_ago: int = 10, status: str = "delivered", message_type: str = "M1"
) -> Message:
    """A text we sent the lead from NUMBER (the simulator lists a lead once one has left)."""
    conversation, _ = Conversation.objects.get_or_create(lead=lead, defaults={"dataset_id": lead.dataset_id})
    return Message.objects.create(
        conversation=conversation,
        lead=lead,
        content=text,
        direction="outbound",
        message_type=message_type,
        from_number=NUMBER,
        to_number=lead.phone_number,
        status=status,
        sent_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


@pytest.fixture
def leads(alpha):
    """Lead0 texted an hour ago, Lead1 ten minutes ago, Lead2 only queued (its phone has nothing yet)."""
    first, second, queued = campaign_dataset(name="Simulated", leads=3).leads.order_by("first_name")
    texted(first, "Hi Lead0, still thinking about solar? Reply STOP to opt out", minutes_ago=60)
    texted(second, "Hi Lead1, still thinking about solar? Reply STOP to opt out")
    texted(queued, "Hi Lead2", status="pending")
    return first, second, queued


# --- only with the simulator backend ------------------------------------------------------------


def test_it_is_not_there_with_another_backend(leads, owner, client):
    client.force_login(owner)
    lead = leads[0]

    assert client.get("/simulator/", **HOST).status_code == 404
    assert client.get(f"/simulator/{lead.pk}/", **HOST).status_code == 404
    assert client.post(f"/simulator/{lead.pk}/reply/", {"body": "STOP"}, **HOST).status_code == 404
    assert "Simulator" not in client.get("/", **HOST).content.decode()
    assert not InboundSms.objects.exists()


def test_it_asks_for_a_sign_in(leads, simulator_on, client):
    response = client.get("/simulator/", **HOST)

    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- the list and the phone ---------------------------------------------------------------------


def test_it_lists_the_texted_leads_newest_first(leads, owner, client, simulator_on):
    client.force_login(owner)

    page = client.get("/simulator/", **HOST).content.decode()

    assert "2 texted leads" in page
    assert page.index("Lead1") < page.index("Lead0")
    assert "Lead2" not in page
    assert 'href="/simulator/"' in client.get("/", **HOST).content.decode()  # the navigation shows it


def test_the_list_refreshes_as_a_partial(leads, owner, client, simulator_on):
    client.force_login(owner)

    partial = client.get("/simulator/", HTTP_HX_REQUEST="true", **HOST).content.decode()

    assert partial.lstrip().startswith('<div id="phone-list"') and "Lead1" in partial
    assert "<html" not in partial


def test_a_sales_rep_sees_only_the_phones_of_their_leads(leads, teammate, client, simulator_on):
    Lead.objects.filter(pk=leads[1].pk).update(assigned_to=teammate)
    client.force_login(teammate)

    page = client.get("/simulator/", **HOST).content.decode()

    assert "Lead1" in page and "Lead0" not in page
    assert client.get(f"/simulator/{leads[0].pk}/", **HOST).status_code == 404


def test_a_phone_shows_what_it_received_and_sent(leads, owner, client, simulator_on):
    lead = leads[0]
    conversation = Conversation.objects.get(lead=lead)
    Message.objects.create(
        conversation=conversation,
        lead=lead,
        content="How much for a 3 bed semi?",
        direction="inbound",
        status="received",
        sent_at=timezone.now() - timedelta(minutes=30),
    )
    texted(lead, "Never sent", status="pending", message_type="nurture")
    InboundSms.objects.create(
        message_sid="SM" + "7" * 32,
        from_number=lead.phone_number,
        to_number=NUMBER,
        body="Hello?",
        received_at=timezone.now(),
    )
    client.force_login(owner)

    screen = client.get(f"/simulator/{lead.pk}/", HTTP_HX_REQUEST="true", **HOST).content.decode()

    assert screen.lstrip().startswith('<div id="phone-screen"')
    received, replied, waiting = (
        screen.index("Hi Lead0"),
        screen.index("How much for a 3 bed semi?"),
        screen.index("Hello?"),
    )
    assert received < replied < waiting
    assert "waiting to be processed" in screen
    assert "Never sent" not in screen


def test_a_lead_never_texted_has_no_phone(leads, owner, client, simulator_on):
    client.force_login(owner)

    assert client.get(f"/simulator/{leads[2].pk}/", **HOST).status_code == 404


# --- replying ----------------------------------------------------------------------------------


def test_an_empty_reply_is_refused_with_a_reason(leads, owner, client, simulator_on):
    client.force_login(owner)

    response = client.post(f"/simulator/{leads[0].pk}/reply/", {"body": "  "}, HTTP_HX_REQUEST="true", **HOST)

    assert "Type a reply first." in response.content.decode()
    assert "HX-Trigger" not in response
    assert not InboundSms.objects.exists()


def test_a_read_only_user_cannot_reply_as_a_lead(leads, make_user, alpha, client, simulator_on):
    client.force_login(make_user(alpha, "reader@alpha.example", User.Role.READ_ONLY))

    assert client.get(f"/simulator/{leads[0].pk}/", **HOST).status_code == 200
    assert client.post(f"/simulator/{leads[0].pk}/reply/", {"body": "Yes"}, **HOST).status_code == 403


def test_it_says_so_when_the_webhook_cannot_be_reached(leads, owner, client, simulator_on, settings):
    settings.DBR_SIMULATOR_CALLBACK_ORIGIN = "http://127.0.0.1:9"  # the discard port: nothing listens
    client.force_login(owner)

    response = client.post(f"/simulator/{leads[0].pk}/reply/", {"body": "Yes please"}, **HOST)

    assert response.status_code == 400
    page = response.content.decode()
    assert "The reply was not sent: the webhook did not answer at http://127.0.0.1:9/webhooks/twilio/sms/" in page
    assert "Yes please" in page  # the typed text is kept
    assert not InboundSms.objects.exists()


@pytest.fixture
def live_alpha(tenants, live_server_port, simulator_on):
    """Committed data for the server thread: alpha's owner and a lead texted from our number."""
    alpha = tenants["alpha"]
    with schema_context("public"):
        owner = User.objects.create_user("owner@alpha.example", PASSWORD, client=alpha, role="company_owner")
    connection.set_tenant(alpha)
    lead = campaign_dataset(name="Live", leads=1).leads.get()
    texted(lead, "Hi Lead0, still interested in solar? Reply STOP to opt out")
    return owner, lead


def test_a_reply_reaches_the_real_webhook_signed_and_is_stored(live_alpha, client):
    owner, lead = live_alpha
    client.force_login(owner)

    response = client.post(
        f"/simulator/{lead.pk}/reply/", {"body": "Yes please, how much?"}, HTTP_HX_REQUEST="true", **HOST
    )

    assert response.status_code == 200
    assert "simulator-reply-sent" in response["HX-Trigger"]
    connection.set_tenant(live_alpha[0].client)
    row = InboundSms.objects.get()
    assert (row.from_number, row.to_number, row.body) == (lead.phone_number, NUMBER, "Yes please, how much?")
    assert row.message_sid.startswith("SM") and len(row.message_sid) == 34
    assert row.params["MessageSid"] == row.message_sid and row.params["SmsStatus"] == "received"


def test_stop_from_the_simulator_removes_the_lead_before_the_page_answers(live_alpha, client):
    owner, lead = live_alpha
    client.force_login(owner)

    response = client.post(f"/simulator/{lead.pk}/reply/", {"body": "STOP"}, **HOST)

    assert response.status_code == 302 and response["Location"] == f"/simulator/{lead.pk}/"
    connection.set_tenant(owner.client)
    assert Suppression.objects.filter(phone_number=lead.phone_number, source="opt_out").exists()
    assert Lead.objects.get(pk=lead.pk).contact_status == "REMOVED"


def test_each_reply_gets_a_fresh_sid():
    first = simulator.reply_params(from_="+447700900100", to=NUMBER, body="Yes")
    second = simulator.reply_params(from_="+447700900100", to=NUMBER, body="Yes")

    assert first["MessageSid"] != second["MessageSid"]
    assert first["MessageSid"] == first["SmsSid"] == first["SmsMessageSid"]
