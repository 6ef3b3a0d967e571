"""{booking_link}: a per-lead short link on the client host that sends the lead to Cal.com prefilled; the
Cal.com webhook in Settings; the demo's test booking."""

import importlib
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from campaigns import content
from campaigns.cadence import cadence_run_in_process
from campaigns.services import campaign_start
from clients.models import Client, User
from leads.models import Lead
from sophie.agent import context_build
from sophie.selectors import merge_values_for
from tests.campaigns.helpers import campaign_dataset
from tests.conftest import PASSWORD

HOST = {"HTTP_HOST": "alpha.localhost"}
CAL_LINK = "https://cal.com/alpha/survey?duration=15"
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
M1 = (
    "Hi {first_name}, it's {agent_name} from {company_name}. You asked about solar panels in {enquiry_month}. "
    "Still keen? Pick a time for a quick call: {booking_link} Reply STOP to opt out."
)
SHORT_LINK = re.compile(r"http://alpha\.localhost(?::\d+)?/b/([\w-]{8})\b")


@pytest.fixture
def dataset(alpha):
    dataset = campaign_dataset(name="Links", leads=2, cal_booking_link=CAL_LINK, m1_message=M1)
    Lead.objects.filter(first_name="Lead0").update(last_name="Smith", email="lead0@example.com")
    return dataset


def test_a_cadence_text_carries_the_leads_own_short_link_within_two_segments(dataset, sms_outbox):
    campaign_start(dataset=dataset, at=TUESDAY_10)
    cadence_run_in_process(at=TUESDAY_10)

    bodies = {m.to: m.body for m in sms_outbox.messages}
    tokens = set()
    for lead in Lead.objects.filter(dataset=dataset):
        [token] = SHORT_LINK.findall(bodies[lead.phone_number])
        assert token == lead.booking_token
        assert content.segments(bodies[lead.phone_number]).segments <= 2
        tokens.add(token)
    assert len(tokens) == 2 and "cal.com" not in " ".join(bodies.values())


def test_a_text_without_the_field_gives_no_token(alpha, sms_outbox):
    dataset = campaign_dataset(
        name="No link", leads=1, cal_booking_link=CAL_LINK, m1_message="Hi {first_name}, {company_name} here."
    )
    campaign_start(dataset=dataset, at=TUESDAY_10)
    cadence_run_in_process(at=TUESDAY_10)
    assert len(sms_outbox.messages) == 1
    assert Lead.objects.get(dataset=dataset).booking_token is None


def test_without_a_calcom_link_the_field_is_empty(alpha, sms_outbox):
    dataset = campaign_dataset(
        name="No Cal", leads=1, m1_message="Hi {first_name}, {company_name} here. {booking_link}"
    )
    campaign_start(dataset=dataset, at=TUESDAY_10)
    cadence_run_in_process(at=TUESDAY_10)
    assert "/b/" not in sms_outbox.messages[0].body


def test_sophie_sends_the_leads_short_link_and_her_lessons_mention_the_dataset_link(dataset):
    lead = Lead.objects.get(first_name="Lead0")

    context, *_ = context_build(lead=lead, at=TUESDAY_10)

    lead.refresh_from_db()
    assert context.booking_link.endswith(f"/b/{lead.booking_token}")
    assert merge_values_for(dataset=dataset, lead=lead).booking_link == context.booking_link
    assert merge_values_for(dataset=dataset).booking_link == CAL_LINK


def test_the_short_link_redirects_to_calcom_with_the_lead_prefilled(dataset, client):
    lead = Lead.objects.get(first_name="Lead0")
    context, *_ = context_build(lead=lead, at=TUESDAY_10)
    path = urlsplit(context.booking_link).path

    response = client.get(path, **HOST)  # the lead is not signed in

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "cal.com", "/alpha/survey")
    query = parse_qs(target.query)
    assert query["metadata[leadId]"] == [str(lead.pk)]
    assert query["name"] == ["Lead0 Smith"] and query["email"] == ["lead0@example.com"]
    assert query["attendeePhoneNumber"] == [lead.phone_number] and query["duration"] == ["15"]


def test_an_unknown_short_link_is_a_friendly_404(dataset, client):
    response = client.get("/b/nope1234", **HOST)
    assert response.status_code == 404
    assert "This booking link does not work" in response.content.decode()


def test_a_short_link_whose_dataset_lost_its_calcom_link_is_a_404(dataset, client):
    lead = Lead.objects.get(first_name="Lead0")
    context, *_ = context_build(lead=lead, at=TUESDAY_10)
    dataset.campaign_settings.cal_booking_link = None
    dataset.campaign_settings.save()
    assert client.get(urlsplit(context.booking_link).path, **HOST).status_code == 404


def test_a_short_link_never_opens_on_another_clients_host(dataset, client):
    lead = Lead.objects.get(first_name="Lead0")
    context, *_ = context_build(lead=lead, at=TUESDAY_10)
    assert client.get(urlsplit(context.booking_link).path, HTTP_HOST="beta.localhost").status_code == 404


def test_the_preview_shows_a_link_as_long_without_giving_tokens(dataset, owner, client):
    client.force_login(owner)
    page = client.get(f"/campaigns/{dataset.pk}/", **HOST).content.decode()
    assert "/b/xxxxxxxx" in page
    assert not Lead.objects.filter(booking_token__isnull=False).exists()


# --- Settings ------------------------------------------------------------------------------------


def test_settings_show_the_webhook_url_and_the_secret_to_owners(alpha, owner, client):
    client.force_login(owner)
    page = client.get("/settings/", **HOST).content.decode()
    assert re.search(r"http://alpha\.localhost(:\d+)?/webhooks/cal/", page)
    assert alpha.cal_webhook_secret in page and len(alpha.cal_webhook_secret) == 64


def test_each_client_has_its_own_secret(alpha, beta):
    assert alpha.cal_webhook_secret and beta.cal_webhook_secret
    assert alpha.cal_webhook_secret != beta.cal_webhook_secret


def test_an_owner_regenerates_the_secret(alpha, owner, client):
    old = alpha.cal_webhook_secret
    client.force_login(owner)
    try:
        response = client.post("/settings/cal/secret/", **HOST)
        assert response.status_code == 302 and response["Location"] == "/settings/#cal"
        new = Client.objects.get(pk=alpha.pk).cal_webhook_secret
        assert new != old and len(new) == 64
    finally:
        Client.objects.filter(pk=alpha.pk).update(cal_webhook_secret=old)


def test_a_sales_rep_neither_sees_nor_regenerates_the_secret(alpha, teammate, client):
    client.force_login(teammate)
    assert alpha.cal_webhook_secret not in client.get("/settings/", **HOST).content.decode()
    assert client.post("/settings/cal/secret/", **HOST).status_code == 403
    assert Client.objects.get(pk=alpha.pk).cal_webhook_secret == alpha.cal_webhook_secret


# --- The demo's test booking ---------------------------------------------------------------------


@pytest.fixture
def live_alpha(tenants, live_server_port, settings):
    """Committed data for the server thread: alpha's owner and a lead of a dataset with a Cal.com link."""
    settings.DBR_SMS_BACKEND = "simulator"
    with schema_context("public"):
        owner = User.objects.create_user("owner@alpha.example", PASSWORD, client=tenants["alpha"], role="company_owner")
    connection.set_tenant(tenants["alpha"])
    lead = campaign_dataset(name="Live", leads=1, cal_booking_link=CAL_LINK).leads.get()
    return owner, lead


def test_the_test_booking_button_books_the_call_through_the_real_webhook(live_alpha, client):
    owner, lead = live_alpha
    client.force_login(owner)
    assert "Send a test booking" in client.get(f"/leads/{lead.pk}/", **HOST).content.decode()

    response = client.post(f"/leads/{lead.pk}/test-booking/", **HOST)

    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    connection.set_tenant(owner.client)
    lead.refresh_from_db()
    assert lead.contact_status == "CALL_BOOKED" and lead.cal_booking_id.startswith("test-")
    assert lead.booking_events.get().outcome == "applied"
    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
    assert "Test booking sent" in page and 'id="call-booked"' in page


def test_there_is_no_test_booking_outside_the_demo(alpha, owner, client, settings):
    settings.DBR_SMS_BACKEND, settings.DEBUG = "locmem", False
    lead = campaign_dataset(name="Real", leads=1).leads.get()
    client.force_login(owner)
    assert "Send a test booking" not in client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
    assert client.post(f"/leads/{lead.pk}/test-booking/", **HOST).status_code == 404


def test_an_outsider_cannot_book_for_another_clients_lead(alpha, outsider, client, settings):
    settings.DBR_SMS_BACKEND = "simulator"
    lead = campaign_dataset(name="Theirs", leads=1).leads.get()
    client.force_login(outsider)
    assert client.post(f"/leads/{lead.pk}/test-booking/", **HOST).status_code in (403, 404)
    assert client.post(f"/leads/{lead.pk}/test-booking/", HTTP_HOST="beta.localhost").status_code == 404
    connection.set_tenant(alpha)
    assert Lead.objects.get(pk=lead.pk).contact_status != "CALL_BOOKED"


def test_the_migration_gives_each_existing_client_its_own_secret(alpha, beta):
    from django.apps import apps

    migration = importlib.import_module("clients.migrations.0008_client_cal_webhook_secret")
    Client.objects.filter(pk__in=[alpha.pk, beta.pk]).update(cal_webhook_secret="")

    with schema_context("public"):  # where migrations of shared apps run
        migration.give_each_client_its_own_secret(apps, None)

    secrets = set(Client.objects.filter(pk__in=[alpha.pk, beta.pk]).values_list("cal_webhook_secret", flat=True))
    assert len(secrets) == 2 and all(len(s) == 64 for s in secrets)
