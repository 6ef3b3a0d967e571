"""Staff see Sophie's planned reply and hand-offs on the lead page and act on them; outsiders get 404."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Conversation, Message
from clients.models import Client
from leads.models import Lead
from sophie.llm.base import Draft
from sophie.writing import reply_write
from tests.campaigns.helpers import campaign_dataset, text_received
from tests.sophie.test_writing import Scripted

HOST = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def lead(alpha) -> Lead:
    dataset = campaign_dataset(name="Review", leads=1, ai_response_delay_seconds=3600)
    return Lead.objects.get(dataset=dataset)


def _planned(lead, capture) -> Message:
    with capture(execute=True):
        text_received(lead.phone_number, "yes please", at=timezone.now())
    return Message.objects.get(lead=lead, status="scheduled")


def test_the_lead_page_shows_when_sophie_will_reply(lead, owner, client, django_capture_on_commit_callbacks):
    planned = _planned(lead, django_capture_on_commit_callbacks)
    client.force_login(owner)

    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()

    assert "Sophie will reply" in page and f"/leads/{lead.pk}/planned/{planned.pk}/cancel/" in page


def test_staff_cancel_a_planned_reply(lead, owner, client, django_capture_on_commit_callbacks):
    planned = _planned(lead, django_capture_on_commit_callbacks)
    client.force_login(owner)

    response = client.post(f"/leads/{lead.pk}/planned/{planned.pk}/cancel/", **HOST)

    planned.refresh_from_db()
    assert response.status_code == 302 and planned.status == "cancelled"
    assert "Cancelled by" in planned.error_message


def test_reply_now_writes_it_at_once(lead, owner, client, django_capture_on_commit_callbacks):
    planned = _planned(lead, django_capture_on_commit_callbacks)
    client.force_login(owner)

    with django_capture_on_commit_callbacks(execute=False):
        client.post(f"/leads/{lead.pk}/planned/{planned.pk}/send-now/", **HOST)

    planned.refresh_from_db()
    assert planned.status == "pending" and planned.content


def test_staff_send_an_edited_draft_from_the_page(lead, owner, client, django_capture_on_commit_callbacks):
    lead.dataset.campaign_settings.ai_mode = "suggest"
    lead.dataset.campaign_settings.save()
    planned = _planned(lead, django_capture_on_commit_callbacks)
    reply_write(
        message_id=planned.pk,
        at=planned.due_at + timedelta(seconds=1),
        backend=Scripted(Draft("send", "Great, do you own your home?")),
    )
    client.force_login(owner)
    assert "Sophie's draft" in client.get(f"/leads/{lead.pk}/", **HOST).content.decode()

    client.post(f"/leads/{lead.pk}/drafts/{planned.pk}/send/", {"text": "Great - is it your own home?"}, **HOST)

    planned.refresh_from_db()
    assert planned.status == "pending" and planned.content == "Great - is it your own home?"
    assert planned.sent_by == owner


def test_an_empty_draft_is_refused_with_a_message(lead, owner, client, django_capture_on_commit_callbacks):
    lead.dataset.campaign_settings.ai_mode = "suggest"
    lead.dataset.campaign_settings.save()
    planned = _planned(lead, django_capture_on_commit_callbacks)
    reply_write(message_id=planned.pk, at=planned.due_at, backend=Scripted(Draft("send", "Do you own your home?")))
    client.force_login(owner)

    response = client.post(f"/leads/{lead.pk}/drafts/{planned.pk}/send/", {"text": "  "}, follow=True, **HOST)

    planned.refresh_from_db()
    assert planned.status == "draft"
    assert "the text is empty" in response.content.decode()


def test_the_hand_off_is_shown_and_cleared(lead, owner, client):
    conversation = Conversation.objects.create(
        lead=lead, dataset=lead.dataset, handoff_at=timezone.now(), handoff_reason="asked about grants",
        needs_review=True,
    )  # fmt: skip
    client.force_login(owner)
    assert "asked about grants" in client.get(f"/leads/{lead.pk}/", **HOST).content.decode()

    client.post(f"/leads/{lead.pk}/handoff/clear/", **HOST)

    conversation.refresh_from_db()
    assert conversation.handoff_at is None and not conversation.needs_review


def test_outsiders_cannot_touch_a_planned_reply(lead, outsider, client, django_capture_on_commit_callbacks):
    planned = _planned(lead, django_capture_on_commit_callbacks)
    client.force_login(outsider)

    for path in ("planned/{m}/cancel/", "planned/{m}/send-now/", "drafts/{m}/send/", "drafts/{m}/discard/"):
        response = client.post(f"/leads/{lead.pk}/" + path.format(m=planned.pk), **HOST)
        assert response.status_code in (302, 403, 404)
    planned.refresh_from_db()
    assert planned.status == "scheduled"


def test_the_sophie_switch_stops_every_planned_reply(alpha, lead, owner, client, django_capture_on_commit_callbacks):
    planned = _planned(lead, django_capture_on_commit_callbacks)
    client.force_login(owner)

    client.post("/settings/sophie/", {"enabled": "0"}, **HOST)

    planned.refresh_from_db()
    assert planned.status == "cancelled"
    assert Client.objects.get(pk=alpha.pk).sophie_enabled is False
    assert "Sophie is <strong>off</strong>" in client.get("/settings/", **HOST).content.decode()


def test_a_sales_rep_may_not_switch_sophie_off(alpha, teammate, client):
    client.force_login(teammate)

    response = client.post("/settings/sophie/", {"enabled": "0"}, **HOST)

    assert response.status_code == 403
    assert Client.objects.get(pk=alpha.pk).sophie_enabled is True


def test_a_draft_puts_the_conversation_in_the_inbox(lead, owner, client, django_capture_on_commit_callbacks):
    lead.dataset.campaign_settings.ai_mode = "suggest"
    lead.dataset.campaign_settings.save()
    planned = _planned(lead, django_capture_on_commit_callbacks)
    reply_write(message_id=planned.pk, at=planned.due_at, backend=Scripted(Draft("send", "Do you own your home?")))
    Message.objects.filter(lead=lead, direction="inbound").update(read_at=timezone.now())
    client.force_login(owner)

    page = client.get("/inbox/?kind=drafts", **HOST).content.decode()

    assert lead.first_name in page and "Sophie's draft</span>" in page
