"""Sophie's planned replies and hand-offs, texts from unknown numbers and campaign templates over the API: each
through the service its dashboard page calls, with the page's roles, dataset rules and refusals."""

import pytest
from django.utils import timezone

from campaigns.models import Conversation, Message
from leads.models import CampaignSettings, Lead, LeadEvent
from sophie.llm.base import Draft
from sophie.models import AiReply
from sophie.writing import reply_write
from tests.campaigns.helpers import text_received
from tests.sophie.test_writing import Scripted

pytestmark = pytest.mark.django_db

STRANGER = "+447700900555"


@pytest.fixture
def sophie(world, django_capture_on_commit_callbacks):
    """North in suggest mode: Dee's reply is a draft waiting for a person, Eve's is still scheduled; and
    South's Sid handed off to a person."""
    CampaignSettings.objects.filter(pk=world.north.campaign_settings_id).update(
        ai_mode="suggest", ai_response_enabled=True, ai_response_delay_seconds=600
    )
    now = timezone.now()
    # Numbers of their own: the world's North and South leads share theirs.
    lead0 = Lead.objects.create(dataset=world.north, first_name="Dee", phone_number="+447700900201")
    lead1 = Lead.objects.create(dataset=world.north, first_name="Eve", phone_number="+447700900202")
    with django_capture_on_commit_callbacks(execute=True):
        text_received(lead0.phone_number, "yes please", at=now)
        text_received(lead1.phone_number, "how much is it", at=now)
    draft = Message.objects.get(lead=lead0, status="scheduled")
    with django_capture_on_commit_callbacks(execute=False):
        word = reply_write(
            message_id=draft.pk, at=draft.due_at, backend=Scripted(Draft("send", "Do you own your home?"))
        )
    assert word == "draft", word
    draft.refresh_from_db()
    scheduled = Message.objects.get(lead=lead1, status="scheduled")
    handoff = Conversation.objects.create(
        lead=world.south_lead, dataset=world.south, handoff_at=now, handoff_reason="Asked about a grant",
        needs_review=True,
    )  # fmt: skip
    return {"draft": draft, "scheduled": scheduled, "handoff": handoff}


def _planned(sophie, name):
    return Message.objects.get(pk=sophie[name].pk)


def _ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Sophie's planned replies -------------------------------------------------------------------------


def test_drafts_and_scheduled_replies_are_listed_apart_from_the_texts(sophie, as_owner, as_rep, as_reader):
    draft, scheduled = str(sophie["draft"].pk), str(sophie["scheduled"].pk)
    assert _ids(as_owner.get("/api/planned-replies/")) == {draft, scheduled}
    assert _ids(as_owner.get("/api/planned-replies/?status=draft")) == {draft}
    assert _ids(as_owner.get("/api/planned-replies/?status=scheduled")) == {scheduled}
    assert _ids(as_owner.get(f"/api/planned-replies/?lead={sophie['draft'].lead_id}")) == {draft}
    assert _ids(as_rep.get("/api/planned-replies/")) == {draft, scheduled}  # North is hers
    assert _ids(as_reader.get("/api/planned-replies/?status=draft")) == {draft}
    assert as_owner.get(f"/api/planned-replies/{draft}/").json()["content"] == "Do you own your home?"
    # The texts stay texts: a planned reply is not one, whatever the filter.
    assert draft not in _ids(as_owner.get("/api/messages/"))
    assert as_owner.get("/api/messages/?status=draft").status_code == 400
    inbound = _ids(as_owner.get("/api/messages/?status=received"))
    assert inbound and all(Message.objects.get(pk=pk).direction == "inbound" for pk in inbound)
    # The inbox names the conversation with a draft.
    inbox = as_owner.get("/api/inbox/?kind=drafts").json()["results"]
    assert [row["lead"] for row in inbox] == [str(sophie["draft"].lead_id)]


def test_a_draft_is_sent_as_edited_once_per_idempotency_key(sophie, as_owner, owner):
    path = f"/api/planned-replies/{sophie['draft'].pk}/send/"
    body = {"text": "  Lovely! Is the house your own?  "}
    first = as_owner.post(path, body, HTTP_IDEMPOTENCY_KEY="draft-1")
    again = as_owner.post(path, body, HTTP_IDEMPOTENCY_KEY="draft-1")

    assert first.status_code == again.status_code == 200, first.content
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    sent = _planned(sophie, "draft")
    assert (sent.status, sent.content, sent.sent_by) == ("pending", "Lovely! Is the house your own?", owner)
    assert AiReply.objects.get(message=sent).edited_by == owner
    assert first.json()["status"] == "pending" and first.json()["sent_by"] == owner.email

    # Without the key, a second send is refused with the service's reason and nothing changes.
    refused = as_owner.post(path, {})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "review_refused"
    assert "no longer waiting" in refused.json()["error"]["message"]
    assert _planned(sophie, "draft").content == "Lovely! Is the house your own?"


def test_a_draft_is_sent_as_sophie_wrote_it_when_no_text_is_given(sophie, as_rep, rep):
    sent = as_rep.post(f"/api/planned-replies/{sophie['draft'].pk}/send/")
    assert sent.status_code == 200, sent.content
    message = _planned(sophie, "draft")
    assert (message.status, message.content, message.sent_by) == ("pending", "Do you own your home?", rep)
    assert AiReply.objects.get(message=message).edited_by is None


def test_a_refused_send_frees_its_idempotency_key(sophie, as_owner):
    path = f"/api/planned-replies/{sophie['draft'].pk}/send/"
    Lead.objects.filter(pk=sophie["draft"].lead_id).update(archived=True)
    refused = as_owner.post(path, {}, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert refused.status_code == 409 and refused.json()["error"]["message"].startswith("Not sent:")
    assert _planned(sophie, "draft").status == "draft"

    Lead.objects.filter(pk=sophie["draft"].lead_id).update(archived=False)
    assert as_owner.post(path, {}, HTTP_IDEMPOTENCY_KEY="retry-me").status_code == 200
    assert _planned(sophie, "draft").status == "pending"


def test_a_draft_is_discarded_and_nothing_goes(sophie, as_owner, owner):
    response = as_owner.post(f"/api/planned-replies/{sophie['draft'].pk}/discard/")
    assert response.status_code == 200, response.content
    message = _planned(sophie, "draft")
    assert message.status == "cancelled" and "discarded" in message.error_message
    assert AiReply.objects.get(message=message).edited_by == owner
    assert as_owner.post(f"/api/planned-replies/{sophie['draft'].pk}/discard/").status_code == 409
    assert as_owner.get(f"/api/planned-replies/{sophie['draft'].pk}/").status_code == 404  # no longer planned


def test_a_scheduled_reply_is_cancelled(sophie, as_owner):
    response = as_owner.post(f"/api/planned-replies/{sophie['scheduled'].pk}/cancel/")
    assert response.status_code == 200, response.content
    message = _planned(sophie, "scheduled")
    assert message.status == "cancelled" and message.error_message.startswith("Cancelled by")
    again = as_owner.post(f"/api/planned-replies/{sophie['scheduled'].pk}/cancel/")
    assert again.status_code == 409 and "already gone or been cancelled" in again.json()["error"]["message"]


def test_a_scheduled_reply_is_written_now(sophie, as_owner):
    response = as_owner.post(f"/api/planned-replies/{sophie['scheduled'].pk}/send-now/")
    assert response.status_code == 200, response.content
    message = _planned(sophie, "scheduled")
    assert message.status == "draft" and message.content  # North is in suggest mode: written, for a person
    assert response.json()["status"] == "draft"
    again = as_owner.post(f"/api/planned-replies/{sophie['scheduled'].pk}/send-now/")
    assert again.status_code == 409 and again.json()["error"]["message"] == "This reply is no longer scheduled."


def test_planned_replies_keep_the_pages_roles(sophie, as_reader, as_rep, world):
    draft = sophie["draft"]
    for verb in ("send", "discard", "cancel", "send-now"):
        refused = as_reader.post(f"/api/planned-replies/{draft.pk}/{verb}/")
        assert refused.status_code == 403, verb
        assert refused.json()["error"]["code"] == "permission_denied"
    assert _planned(sophie, "draft").status == "draft"

    # A planned reply of a dataset the rep cannot see is not there for her.
    Message.objects.filter(pk=draft.pk).update(lead=world.south_lead, conversation=sophie["handoff"])
    assert as_rep.get(f"/api/planned-replies/{draft.pk}/").status_code == 404
    assert as_rep.post(f"/api/planned-replies/{draft.pk}/send/").status_code == 404
    assert as_rep.post(f"/api/planned-replies/{draft.pk}/discard/").status_code == 404
    assert str(draft.pk) not in _ids(as_rep.get("/api/planned-replies/"))
    assert _planned(sophie, "draft").status == "draft"


def test_planned_replies_refuse_bad_input_and_change_nothing(sophie, as_owner):
    path = f"/api/planned-replies/{sophie['draft'].pk}/send/"
    for body, field in (({"text": ""}, "text"), ({"text": 42}, "text"), ({"text": "x" * 1601}, "text")):
        response = as_owner.post(path, body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid" and field in response.json()["error"]["fields"]
    not_object = as_owner.post(path, ["Hello"])
    assert not_object.status_code == 400
    assert as_owner.post("/api/planned-replies/not-a-uuid/send/").status_code == 400
    assert as_owner.post("/api/planned-replies/not-a-uuid/discard/").status_code == 400
    assert as_owner.get("/api/planned-replies/not-a-uuid/").status_code == 400
    for params in ("status=sent", "lead=nope", "dataset=nope", "limit=0"):
        response = as_owner.get(f"/api/planned-replies/?{params}")
        assert response.status_code == 400, params
    assert _planned(sophie, "draft").status == "draft" and _planned(sophie, "draft").content == "Do you own your home?"
    # Not one of Sophie's replies (a text the lead sent): not found.
    inbound = Message.objects.filter(lead=sophie["draft"].lead, direction="inbound").first()
    assert as_owner.post(f"/api/planned-replies/{inbound.pk}/discard/").status_code == 404


# --- Hand-offs ----------------------------------------------------------------------------------------


def test_a_hand_off_is_listed_and_cleared(sophie, as_owner, owner):
    handoff = sophie["handoff"]
    listed = as_owner.get("/api/handoffs/").json()["results"]
    assert [(row["id"], row["handoff_reason"]) for row in listed] == [(str(handoff.pk), "Asked about a grant")]
    assert as_owner.get(f"/api/handoffs/?dataset={world_north(sophie)}").json()["results"] == []

    cleared = as_owner.post(f"/api/handoffs/{handoff.pk}/clear/")
    assert cleared.status_code == 200, cleared.content
    handoff.refresh_from_db()
    assert (handoff.handoff_at, handoff.handoff_reason, handoff.needs_review) == (None, "", False)
    assert cleared.json()["handoff_at"] is None
    assert LeadEvent.objects.get(lead=handoff.lead, event_type="handoff_cleared").actor == owner
    assert as_owner.get("/api/handoffs/").json()["results"] == []
    assert as_owner.post(f"/api/handoffs/{handoff.pk}/clear/").status_code == 200  # harmless twice, as the page


def world_north(sophie) -> str:
    return str(sophie["draft"].lead.dataset_id)


def test_hand_offs_keep_the_pages_roles_and_refuse_bad_ids(sophie, as_rep, as_reader, as_owner):
    handoff = sophie["handoff"]  # South's: not the rep's
    assert as_rep.get("/api/handoffs/").json()["results"] == []
    assert as_rep.post(f"/api/handoffs/{handoff.pk}/clear/").status_code == 404
    assert as_reader.get("/api/handoffs/").status_code == 200
    assert as_reader.post(f"/api/handoffs/{handoff.pk}/clear/").status_code == 403
    assert as_owner.post("/api/handoffs/nope/clear/").status_code == 400
    assert as_owner.get("/api/handoffs/?dataset=nope").status_code == 400
    handoff.refresh_from_db()
    assert handoff.handoff_at is not None and handoff.needs_review
