"""The client admin shows a client's records and settings but changes none of them (docs/security.md §1).

Every change goes through the dashboard's services, so the admin offers no way around the
PECR checks, the running-campaign checks or the outbox.
"""

import pytest
from django.utils import timezone

from campaigns.models import Conversation, InboundSms, Message, MessageStatusEvent
from clients.models import User
from leads.models import LeadEvent, Suppression
from sophie.models import AiReply
from tests.campaigns.helpers import campaign_dataset, text_received

HOST = {"HTTP_HOST": "alpha.localhost"}
ROLES = [role.value for role in User.Role]
ADMIN_ROLES = ["admin", "company_owner"]


@pytest.fixture
def records(alpha):
    dataset = campaign_dataset(name="Admin", leads=1)
    lead = dataset.leads.get()
    text_received(lead.phone_number, "Yes please, call me", at=timezone.now())
    message = Message.objects.get(lead=lead)
    MessageStatusEvent.objects.create(message=message, twilio_sid="SM" + "7" * 32, status="delivered")
    Suppression.objects.create(phone_number="+447700900555", source=Suppression.Source.STAFF)
    AiReply.objects.create(message=message, backend="offline", action="send", written_at=timezone.now())
    return {
        "campaigns/message": message,
        "campaigns/conversation": Conversation.objects.get(lead=lead),
        "campaigns/inboundsms": InboundSms.objects.get(),
        "campaigns/messagestatusevent": MessageStatusEvent.objects.get(),
        "leads/leadevent": LeadEvent.objects.filter(lead=lead).first(),
        "leads/suppression": Suppression.objects.get(),
        "leads/lead": lead,
        "leads/dataset": dataset,
        "leads/campaignsettings": dataset.campaign_settings,
        "sophie/aireply": AiReply.objects.get(),
    }


@pytest.mark.parametrize("role", ROLES)
def test_it_refuses_adding_a_message_to_every_role(role, records, make_user, alpha, client):
    client.force_login(make_user(alpha, f"{role}@alpha.example", role))
    lead = records["leads/lead"]
    before = Message.objects.count()

    shown = client.get("/admin/campaigns/message/add/", **HOST)
    posted = client.post(
        "/admin/campaigns/message/add/",
        {
            "lead": lead.pk,
            "conversation": records["campaigns/conversation"].pk,
            "direction": "outbound",
            "message_type": "manual",
            "status": "pending",
            "to_number": "+447700900777",
            "from_number": "+447700900001",
            "content": "Buy now",
        },
        **HOST,
    )

    assert shown.status_code in (302, 403) and posted.status_code in (302, 403)
    if shown.status_code == 302:  # not an admin: sent to sign in, never to the form
        assert "/login/" in shown["Location"]
    assert Message.objects.count() == before


@pytest.mark.parametrize("role", ADMIN_ROLES)
def test_it_shows_operational_records_and_settings_but_changes_none(role, records, make_user, alpha, client):
    client.force_login(make_user(alpha, f"{role}@alpha.example", role))

    for name, obj in records.items():
        base = f"/admin/{name}/"
        changelist = client.get(base, **HOST)
        assert changelist.status_code == 200, name
        assert f'href="{base}add/"' not in changelist.content.decode(), name
        assert client.get(f"{base}add/", **HOST).status_code == 403, name
        assert client.get(f"{base}{obj.pk}/change/", **HOST).status_code == 200, name  # view only
        assert client.post(f"{base}{obj.pk}/change/", {}, **HOST).status_code == 403, name
        assert client.get(f"{base}{obj.pk}/delete/", **HOST).status_code == 403, name
        deleted = client.post(base, {"action": "delete_selected", "_selected_action": [obj.pk]}, **HOST)
        assert deleted.status_code in (200, 302), name
        assert type(obj).objects.filter(pk=obj.pk).exists(), name
