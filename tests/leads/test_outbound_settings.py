"""Outbound events in the dashboard: the URL (http/https only), the signing secret (shown once, rotated by owners
and admins), the Push to n8n button, and each client's events staying its own."""

from django.db import connection
from django.utils import timezone

from clients.models import Client, User
from leads.happenings import Happening, lead_happened
from leads.models import WebhookDelivery
from leads.outbound import outbound_url_set, webhook_delivery_attempt
from tests.campaigns.helpers import campaign_dataset
from tests.fakes.webhook_receiver import FakeReceiver

HOST = {"HTTP_HOST": "alpha.localhost"}


def _client(alpha) -> Client:
    return Client.objects.get(pk=alpha.pk)


def test_an_owner_sets_an_http_url_and_other_schemes_are_refused(alpha, owner, client):
    client.force_login(owner)

    client.post("/settings/outbound/url/", {"url": "ftp://n8n.example/hook"}, **HOST)
    assert _client(alpha).n8n_webhook_url is None
    client.post("/settings/outbound/url/", {"url": "javascript:alert(1)"}, **HOST)
    assert _client(alpha).n8n_webhook_url is None

    response = client.post("/settings/outbound/url/", {"url": "http://n8n:5678/webhook/dbr"}, follow=True, **HOST)
    assert _client(alpha).n8n_webhook_url == "http://n8n:5678/webhook/dbr"
    assert "http://n8n:5678/webhook/dbr" in response.content.decode()

    client.post("/settings/outbound/url/", {"url": ""}, **HOST)
    assert _client(alpha).n8n_webhook_url is None


def test_the_refusal_is_shown(alpha, owner, client):
    client.force_login(owner)

    response = client.post("/settings/outbound/url/", {"url": "ftp://n8n.example/hook"}, follow=True, **HOST)

    assert "starts with http:// or https://" in response.content.decode()


def test_every_client_has_its_own_secret(alpha, beta):
    secrets = {_client(alpha).n8n_webhook_secret, Client.objects.get(pk=beta.pk).n8n_webhook_secret}
    assert len(secrets) == 2 and all(secret.startswith("whsec_") and len(secret) > 40 for secret in secrets)


def test_a_new_secret_is_shown_once(alpha, owner, client):
    client.force_login(owner)
    old = _client(alpha).n8n_webhook_secret
    page = client.get("/settings/", **HOST).content.decode()
    assert old not in page and old[-4:] in page

    response = client.post("/settings/outbound/secret/", follow=True, **HOST)

    new = _client(alpha).n8n_webhook_secret
    assert new != old and new in response.content.decode()
    assert new not in client.get("/settings/", **HOST).content.decode()


def test_only_owners_and_admins_see_and_change_it(alpha, make_user, client):
    manager = make_user(alpha, "manager@alpha.example", User.Role.MANAGER, can_push_to_n8n=True)
    client.force_login(manager)
    old = _client(alpha).n8n_webhook_secret

    assert 'id="outbound-events"' not in client.get("/settings/", **HOST).content.decode()
    assert client.post("/settings/outbound/secret/", **HOST).status_code == 403
    assert client.post("/settings/outbound/url/", {"url": "http://x.example/"}, **HOST).status_code == 403
    assert client.post("/settings/outbound/test/", **HOST).status_code == 403
    assert _client(alpha).n8n_webhook_secret == old and _client(alpha).n8n_webhook_url is None


def test_the_push_button_is_for_reps_with_the_flag(alpha, make_user, client):
    lead = campaign_dataset(name="Pushed", leads=1).leads.get()
    outbound_url_set(client=alpha, url="http://127.0.0.1:9/hook")
    plain = make_user(alpha, "plain@alpha.example", User.Role.SALES_REP, can_view_all_leads=True)
    rep = User.Role.SALES_REP
    pusher = make_user(alpha, "pusher@alpha.example", rep, can_view_all_leads=True, can_push_to_n8n=True)

    client.force_login(plain)
    assert "Push to n8n" not in client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
    assert client.post(f"/leads/{lead.pk}/push/", **HOST).status_code == 403
    assert not WebhookDelivery.objects.exists()

    client.force_login(pusher)
    assert "Push to n8n" in client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
    response = client.post(f"/leads/{lead.pk}/push/", **HOST)
    assert response.status_code == 302
    [row] = WebhookDelivery.objects.all()
    assert row.event_type == "lead.pushed" and row.payload["data"] == {"by": pusher.email}


def test_a_rep_cannot_push_a_lead_they_cannot_see(alpha, make_user, client):
    lead = campaign_dataset(name="Hidden", leads=1).leads.get()
    outbound_url_set(client=alpha, url="http://127.0.0.1:9/hook")
    rep = make_user(alpha, "rep2@alpha.example", User.Role.SALES_REP, can_push_to_n8n=True)
    client.force_login(rep)

    assert client.post(f"/leads/{lead.pk}/push/", **HOST).status_code == 404
    assert not WebhookDelivery.objects.exists()


def test_each_client_sends_its_own_events_with_its_own_secret(alpha, beta, outsider, client):
    lead = campaign_dataset(name="Mine", leads=1).leads.get()
    beta_secret = Client.objects.get(pk=beta.pk).n8n_webhook_secret
    with FakeReceiver(secret=beta_secret) as beta_receiver:
        url = beta_receiver.url
        outbound_url_set(client=alpha, url=url)  # alpha points at beta's receiver by mistake
        lead_happened(lead=lead, kind=Happening.HOT, at=timezone.now())
        [row] = WebhookDelivery.objects.all()
        webhook_delivery_attempt(delivery_id=row.pk, at=timezone.now())
        assert not beta_receiver.requests[0].signed  # signed with alpha's secret, not beta's
        assert beta_receiver.requests[0].body["client"]["slug"] == "alpha"

    connection.set_tenant(beta)
    assert not WebhookDelivery.objects.exists()
    client.force_login(outsider)
    page = client.get("/settings/", HTTP_HOST="beta.localhost").content.decode()
    assert "lead.hot" not in page and url not in page and 'id="outbound-events"' in page
    connection.set_tenant(alpha)


def test_the_client_admin_lists_deliveries_read_only(alpha, owner, client):
    lead = campaign_dataset(name="Admin", leads=1).leads.get()
    outbound_url_set(client=alpha, url="http://127.0.0.1:9/hook")
    row = lead_happened(lead=lead, kind=Happening.HANDOFF, at=timezone.now())
    client.force_login(owner)

    page = client.get("/admin/leads/webhookdelivery/", **HOST)

    assert page.status_code == 200 and "lead.handoff" in page.content.decode()
    assert client.get(f"/admin/leads/webhookdelivery/{row.pk}/delete/", **HOST).status_code == 403
