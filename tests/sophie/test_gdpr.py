"""A lead's erasure and subject access export (docs/security.md §5), from the service, the lead
page, the API and the command."""

import json

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import InboundSms, Message, MessageStatusEvent
from clients.api_tokens import api_token_create
from clients.storage import bucket_storage, save_client_file
from leads.models import Lead, LeadEvent, Suppression
from sophie.gdpr import lead_data_export, lead_erase
from sophie.models import Insight
from tests.campaigns.helpers import campaign_dataset, text_received

HOST = {"HTTP_HOST": "alpha.localhost"}
SECRET = "My husband Dave is at 12 Acacia Road, call after six"


@pytest.fixture
def person(alpha):
    dataset = campaign_dataset(name="GDPR", leads=2)
    lead = dataset.leads.order_by("phone_number").first()
    Lead.objects.filter(pk=lead.pk).update(
        last_name="Jones", email="ann@example.com", notes="Prefers mornings", custom_fields={"roof": "south"}
    )
    text_received(lead.phone_number, SECRET, at=timezone.now())
    message = Message.objects.get(lead=lead, direction="inbound")
    MessageStatusEvent.objects.create(
        message=message, twilio_sid="SM" + "5" * 32, status="received", payload={"Body": SECRET}
    )
    Insight.objects.create(
        message=message,
        title="Objection",
        description=f"Lead said: {SECRET}",
        original_text=SECRET,
        insight_type="objection",
        severity="low",
        category="other",
    )
    other = dataset.leads.exclude(pk=lead.pk).get()
    export = save_client_file("exports", "leads.csv", ContentFile(f"phone\n{lead.phone_number}\n".encode()))
    unrelated = save_client_file("exports", "leads.csv", ContentFile(f"phone\n{other.phone_number}\n".encode()))
    lead.refresh_from_db()
    return {"lead": lead, "other": other, "export": export, "unrelated": unrelated}


def _everything_about(lead: Lead) -> str:
    lead.refresh_from_db()
    rows = [
        Lead.objects.filter(pk=lead.pk).values().get(),
        *Message.objects.filter(lead=lead).values(),
        *InboundSms.objects.filter(from_number=lead.phone_number).values(),
        *MessageStatusEvent.objects.values(),
        *LeadEvent.objects.filter(lead=lead).exclude(event_type="erased").values(),
        *Insight.objects.values(),
    ]
    return json.dumps(rows, default=str)


def test_erasure_clears_the_person_keeps_the_number_suppressed_and_records_who(person, owner):
    lead = person["lead"]
    assert SECRET in _everything_about(lead) and "ann@example.com" in _everything_about(lead)

    done = lead_erase(phone_number=lead.phone_number, actor=owner, at=timezone.now())

    text = _everything_about(lead)
    for secret in (SECRET, "Jones", "ann@example.com", "Prefers mornings", "south"):
        assert secret not in text, secret
    suppression = Suppression.objects.get(phone_number=lead.phone_number)
    assert suppression.source == "erasure"
    event = LeadEvent.objects.get(lead=lead, event_type="erased")
    assert event.actor == owner and event.data["erased"]["leads"] == 1 and done["files"] >= 1
    exports = bucket_storage("exports")
    assert not exports.exists(person["export"]) and exports.exists(person["unrelated"])
    assert Lead.objects.get(pk=person["other"].pk).first_name != "[erased]"


def test_the_subject_access_export_holds_the_lead_and_their_texts(person):
    data = json.loads(lead_data_export(phone_number=person["lead"].phone_number))

    assert data["leads"][0]["email"] == "ann@example.com"
    assert any(SECRET in m["content"] for m in data["leads"][0]["messages"])
    assert data["inbound_texts"][0]["body"] == SECRET


def test_the_lead_page_the_api_and_the_command_reach_the_same_service(person, owner, teammate, client, capsys):
    lead = person["lead"]
    client.force_login(teammate)
    assert client.post(f"/leads/{lead.pk}/erase/", **HOST).status_code == 403
    client.force_login(owner)
    page = client.get(f"/leads/{lead.pk}/data/", **HOST)
    assert page.status_code == 200 and SECRET in page.content.decode()

    token = api_token_create(user=owner, name="test")
    api = client.get(
        f"/api/lead-data/export/?phone_number={lead.phone_number.replace('+', '%2B')}",
        HTTP_AUTHORIZATION=f"Token {token.key}",
        **HOST,
    )
    assert api.status_code == 200 and SECRET in api.content.decode()

    call_command("lead_data", "--client", "alpha", "--number", lead.phone_number, "erase", "--by", owner.email)
    assert "stays suppressed" in capsys.readouterr().out
    assert SECRET not in _everything_about(lead)

    erased_again = client.post(
        "/api/lead-data/erase/",
        {"phone_number": person["other"].phone_number},
        HTTP_AUTHORIZATION=f"Token {token.key}",
        **HOST,
    )
    assert erased_again.status_code == 200 and erased_again.json()["erased"]["leads"] == 1


def test_erasure_removes_the_bells_notifications_about_the_lead(person, owner):
    from clients.models import Notification
    from leads.services import lead_status_change

    lead_status_change(lead=person["lead"], status="HOT", actor=None, at=timezone.now())
    assert Notification.objects.filter(lead_id=person["lead"].pk).exists()

    lead_erase(lead=person["lead"], actor=owner, at=timezone.now())

    assert not Notification.objects.filter(lead_id=person["lead"].pk).exists()


def test_the_lead_page_offers_export_and_erasure_to_admins_only(person, owner, teammate, client):
    lead = person["lead"]
    client.force_login(owner)
    assert f"/leads/{lead.pk}/erase/" in client.get(f"/leads/{lead.pk}/", **HOST).content.decode()

    Lead.objects.filter(pk=lead.pk).update(assigned_to=teammate)
    client.force_login(teammate)
    assert f"/leads/{lead.pk}/erase/" not in client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
