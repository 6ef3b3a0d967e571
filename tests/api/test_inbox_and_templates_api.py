"""Sophie's planned replies and hand-offs, texts from unknown numbers and campaign templates over the API: each
through the service its dashboard page calls, with the page's roles, dataset rules and refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Conversation, InboundSms, Message
from leads.models import CampaignSettings, Dataset, Lead, LeadEvent
from sophie.llm.base import Draft
from sophie.models import AiReply
from sophie.writing import reply_write
from tests.api.conftest import Api, token_for
from tests.campaigns.helpers import NUMBER, text_received
from tests.sophie.test_writing import Scripted

pytestmark = pytest.mark.django_db

STRANGER = "+447700900555"
TEMPLATES = {"Default", "Gentle"}  # every client's default, and the `template` fixture's


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


# --- Texts from unknown numbers -----------------------------------------------------------------------


@pytest.fixture
def texts(world):
    """A text from a number no lead has, one from a sender that is no phone number, one to a number that is
    not ours, and one that failed to be processed."""
    now = timezone.now()
    unmatched = text_received(STRANGER, "Is this the solar people? Sam", at=now - timedelta(minutes=1))
    not_a_phone = text_received("VERIFY", "Your code is 1234", at=now - timedelta(minutes=2))
    foreign = text_received("+447700900666", "Wrong line", at=now - timedelta(minutes=3), to="+447700900000")
    failed = InboundSms.objects.create(
        message_sid="SMfailed", from_number="+447700900444", to_number=NUMBER, body="?",
        received_at=now - timedelta(minutes=4), processed_at=now, attempts=3, outcome="error", error="boom",
    )  # fmt: skip
    assert (unmatched.outcome, not_a_phone.outcome, foreign.outcome) == ("unmatched", "unmatched", "foreign_to")
    return {"unmatched": unmatched, "not_a_phone": not_a_phone, "foreign": foreign, "failed": failed}


def _row(text) -> InboundSms:
    return InboundSms.objects.get(pk=text.pk)


def test_texts_from_unknown_numbers_are_listed_for_who_sees_every_lead(texts, as_owner, as_rep, as_reader):
    everything = as_owner.get("/api/inbox-texts/").json()["results"]
    assert [row["id"] for row in everything] == [
        str(texts[name].pk) for name in ("unmatched", "not_a_phone", "foreign", "failed")
    ]
    assert "params" not in everything[0] and everything[0]["attachable"] is True
    unknown = {str(texts["unmatched"].pk), str(texts["not_a_phone"].pk)}
    assert _ids(as_owner.get("/api/inbox-texts/?kind=unmatched")) == unknown
    assert _ids(as_owner.get("/api/inbox-texts/?kind=foreign")) == {str(texts["foreign"].pk)}
    assert _ids(as_owner.get("/api/inbox-texts/?kind=errors")) == {str(texts["failed"].pk)}
    one = as_owner.get(f"/api/inbox-texts/{texts['unmatched'].pk}/").json()
    assert (one["from_number"], one["body"]) == (STRANGER, "Is this the solar people? Sam")
    # A text reached no dataset: a rep kept to one dataset sees none, as in the inbox; a reader sees them.
    assert as_rep.get("/api/inbox-texts/").json()["results"] == []
    assert as_rep.get(f"/api/inbox-texts/{texts['unmatched'].pk}/").status_code == 404
    assert len(as_reader.get("/api/inbox-texts/").json()["results"]) == 4


def test_a_text_is_attached_to_a_lead_and_becomes_its_reply(texts, world, as_owner):
    lead = world.north_lead
    response = as_owner.post(f"/api/inbox-texts/{texts['unmatched'].pk}/attach/", {"lead": str(lead.pk)})

    assert response.status_code == 200, response.content
    row = _row(texts["unmatched"])
    assert (row.outcome, row.lead_id) == ("matched", lead.pk)
    assert row.message.lead_id == lead.pk and row.message.content == "Is this the solar people? Sam"
    assert response.json()["lead"] == str(lead.pk) and response.json()["attachable"] is False
    assert str(row.pk) not in _ids(as_owner.get("/api/inbox-texts/"))

    again = as_owner.post(f"/api/inbox-texts/{row.pk}/attach/", {"lead": str(lead.pk)})
    assert again.status_code == 404  # no longer waiting: gone from the list, as from the inbox


def test_a_text_that_is_not_waiting_is_refused_with_the_reason(texts, world, as_owner):
    foreign = as_owner.post(f"/api/inbox-texts/{texts['foreign'].pk}/attach/", {"lead": str(world.north_lead.pk)})
    assert foreign.status_code == 409 and foreign.json()["error"]["code"] == "text_refused"
    assert "no longer waiting" in foreign.json()["error"]["message"]
    assert _row(texts["foreign"]).outcome == "foreign_to"


def test_a_lead_is_made_from_a_text(texts, world, as_owner, owner):
    body = {"dataset": str(world.south.pk), "first_name": "Sam", "last_name": "Carter"}
    response = as_owner.post(f"/api/inbox-texts/{texts['unmatched'].pk}/create-lead/", body)

    assert response.status_code == 201, response.content
    lead = Lead.objects.get(phone_number=STRANGER)
    assert (lead.dataset_id, lead.first_name, lead.last_name) == (world.south.pk, "Sam", "Carter")
    assert LeadEvent.objects.get(lead=lead, event_type="imported").actor == owner
    assert _row(texts["unmatched"]).lead_id == lead.pk and response.json()["lead"] == str(lead.pk)


def test_a_lead_is_not_made_from_a_sender_that_is_no_phone_number_nor_twice(texts, world, as_owner):
    refused = as_owner.post(
        f"/api/inbox-texts/{texts['not_a_phone'].pk}/create-lead/", {"dataset": str(world.north.pk), "first_name": "X"}
    )
    assert refused.status_code == 409 and "is not a phone number" in refused.json()["error"]["message"]
    Lead.objects.create(dataset=world.north, first_name="Sam", phone_number=STRANGER)
    taken = as_owner.post(
        f"/api/inbox-texts/{texts['unmatched'].pk}/create-lead/", {"dataset": str(world.north.pk), "first_name": "Sam"}
    )
    assert taken.status_code == 409 and "already has a lead" in taken.json()["error"]["message"]
    assert Lead.objects.filter(phone_number=STRANGER).count() == 1
    assert Lead.objects.filter(first_name="X").count() == 0
    assert _row(texts["unmatched"]).outcome == "unmatched" and _row(texts["not_a_phone"]).outcome == "unmatched"


def test_texts_keep_the_pages_roles(texts, world, as_rep, as_reader, make_user, alpha):
    text = texts["unmatched"]
    for api in (as_rep, as_reader):
        for verb, body in (("attach", {"lead": str(world.north_lead.pk)}), ("create-lead", {})):
            response = api.post(f"/api/inbox-texts/{text.pk}/{verb}/", body)
            assert response.status_code == 403, (verb, response.content)
    # A manager kept to one dataset attaches to her leads only: the text itself she cannot see.
    manager = make_user(alpha, "north-manager@alpha.example", "manager", allowed_dataset_ids=[world.north.pk])
    kept = Api(token_for(manager))
    assert kept.post(f"/api/inbox-texts/{text.pk}/attach/", {"lead": str(world.north_lead.pk)}).status_code == 404
    assert _row(text).outcome == "unmatched" and not Lead.objects.filter(phone_number=STRANGER).exists()


def test_texts_refuse_bad_input_and_change_nothing(texts, world, as_owner):
    path = f"/api/inbox-texts/{texts['unmatched'].pk}"
    cases = [
        ("attach", {}, "lead"),
        ("attach", {"lead": "nope"}, "lead"),
        ("attach", {"lead": 7}, "lead"),
        ("create-lead", {"first_name": "Sam"}, "dataset"),
        ("create-lead", {"dataset": "nope", "first_name": "Sam"}, "dataset"),
        ("create-lead", {"dataset": str(world.north.pk)}, "first_name"),
        ("create-lead", {"dataset": str(world.north.pk), "first_name": ""}, "first_name"),
        ("create-lead", {"dataset": str(world.north.pk), "first_name": 12}, "first_name"),
        ("create-lead", {"dataset": str(world.north.pk), "first_name": "S" * 101}, "first_name"),
    ]
    for verb, body, field in cases:
        response = as_owner.post(f"{path}/{verb}/", body)
        assert response.status_code == 400, (verb, body, response.content)
        assert field in response.json()["error"]["fields"], (verb, body)
    assert as_owner.post(f"{path}/attach/", ["x"]).status_code == 400
    assert as_owner.post("/api/inbox-texts/nope/attach/", {"lead": str(world.north_lead.pk)}).status_code == 400
    assert as_owner.get("/api/inbox-texts/nope/").status_code == 400
    assert as_owner.get("/api/inbox-texts/?kind=matched").status_code == 400
    # Ids that name nothing here: not found.
    missing = "00000000-0000-4000-8000-000000000000"
    assert as_owner.post(f"{path}/attach/", {"lead": missing}).status_code == 404
    assert as_owner.post(f"{path}/create-lead/", {"dataset": missing, "first_name": "Sam"}).status_code == 404
    assert _row(texts["unmatched"]).outcome == "unmatched" and not Lead.objects.filter(phone_number=STRANGER).exists()


# --- Campaign templates -------------------------------------------------------------------------------


@pytest.fixture
def template(world):
    return CampaignSettings.objects.create(
        name="Gentle", description="Slow and kind", is_template=True,
        m1_message="Gentle hello from {company_name}. Reply STOP to opt out", m2_delay_hours=96,
    )  # fmt: skip


def test_templates_are_listed_for_every_member(template, as_owner, as_rep, as_reader):
    for api in (as_owner, as_rep, as_reader):
        rows = api.get("/api/campaign-templates/").json()["results"]
        # By name: the client's "Default" (every client has one) and ours.
        assert [row["name"] for row in rows] == ["Default", "Gentle"]
        assert (rows[1]["id"], rows[1]["m2_delay_hours"]) == (str(template.pk), 96)
    assert as_owner.get(f"/api/campaign-templates/{template.pk}/").json()["description"] == "Slow and kind"
    own = Dataset.objects.filter(campaign_settings__isnull=False).first().campaign_settings_id
    assert as_owner.get(f"/api/campaign-templates/{own}/").status_code == 404  # a dataset's own settings
    assert as_owner.get("/api/campaign-templates/nope/").status_code == 400


def test_a_campaigns_settings_are_saved_as_a_template(world, as_owner):
    before = CampaignSettings.objects.filter(is_template=True).count()
    CampaignSettings.objects.filter(pk=world.north.campaign_settings_id).update(m2_delay_hours=12)
    response = as_owner.post(
        f"/api/campaigns/{world.north.pk}/save-as-template/", {"name": "  Quick   follow-up ", "description": "Fast"}
    )

    assert response.status_code == 201, response.content
    made = CampaignSettings.objects.get(is_template=True, name="Quick follow-up")
    own = Dataset.objects.get(pk=world.north.pk).campaign_settings
    assert made.pk != own.pk and (made.m2_delay_hours, made.description) == (12, "Fast")
    assert response.json()["id"] == str(made.pk)

    taken = as_owner.post(f"/api/campaigns/{world.south.pk}/save-as-template/", {"name": "quick FOLLOW-UP"})
    assert taken.status_code == 400 and "exists already" in taken.json()["error"]["fields"]["name"][0]
    assert CampaignSettings.objects.filter(is_template=True).count() == before + 1


def test_a_template_is_applied_as_a_copy(world, template, as_owner):
    response = as_owner.post(f"/api/campaigns/{world.north.pk}/apply-template/", {"template": str(template.pk)})

    assert response.status_code == 200, response.content
    own = Dataset.objects.get(pk=world.north.pk).campaign_settings
    assert own.pk != template.pk and not own.is_template
    assert (own.m1_message, own.m2_delay_hours) == (template.m1_message, 96)
    assert response.json()["m2_delay_hours"] == 96 and response.json()["name"] == own.name != "Gentle"
    template.refresh_from_db()
    assert template.is_template and template.name == "Gentle"


def test_a_running_campaign_refuses_a_template_that_would_stop_it(world, template, as_owner):
    assert as_owner.post(f"/api/campaigns/{world.north.pk}/start/").json()["campaign_status"] == "active"
    CampaignSettings.objects.filter(pk=template.pk).update(m1_message="Hello {first_name}", auto_append_opt_out=False)
    before = Dataset.objects.get(pk=world.north.pk).campaign_settings.m1_message

    refused = as_owner.post(f"/api/campaigns/{world.north.pk}/apply-template/", {"template": str(template.pk)})

    assert refused.status_code == 409 and refused.json()["error"]["code"] == "campaign_refused"
    problems = refused.json()["error"]["fields"]["non_field_errors"]
    assert any("opt-out" in problem for problem in problems), problems
    assert Dataset.objects.get(pk=world.north.pk).campaign_settings.m1_message == before


def test_templates_keep_the_pages_roles(world, template, as_rep, as_reader, as_owner):
    for api in (as_rep, as_reader):
        save = api.post(f"/api/campaigns/{world.north.pk}/save-as-template/", {"name": "Mine"})
        apply = api.post(f"/api/campaigns/{world.north.pk}/apply-template/", {"template": str(template.pk)})
        assert (save.status_code, apply.status_code) == (403, 403)
    assert not CampaignSettings.objects.filter(name="Mine").exists()
    assert Dataset.objects.get(pk=world.north.pk).campaign_settings.m2_delay_hours != 96


def test_templates_refuse_bad_input_and_change_nothing(world, template, as_owner, make_user, alpha):
    north = f"/api/campaigns/{world.north.pk}"
    for body, field in (
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 201}, "name"),
    ):
        response = as_owner.post(f"{north}/save-as-template/", body)
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()["error"]["fields"], body
    own = CampaignSettings.objects.get(pk=Dataset.objects.get(pk=world.north.pk).campaign_settings_id)
    for body in ({}, {"template": "nope"}, {"template": 3}, {"template": str(own.pk)}):
        response = as_owner.post(f"{north}/apply-template/", body)
        assert response.status_code == 400, (body, response.content)
        assert "template" in response.json()["error"]["fields"], body
    assert as_owner.post(f"{north}/apply-template/", ["x"]).status_code == 400
    assert as_owner.post("/api/campaigns/nope/apply-template/", {"template": str(template.pk)}).status_code == 400
    assert set(CampaignSettings.objects.filter(is_template=True).values_list("name", flat=True)) == TEMPLATES
    assert CampaignSettings.objects.get(pk=own.pk).m2_delay_hours != 96
    # A campaign of another dataset is not there for a manager kept to North.
    manager = make_user(alpha, "north-manager@alpha.example", "manager", allowed_dataset_ids=[world.north.pk])
    kept = Api(token_for(manager))
    south = f"/api/campaigns/{world.south.pk}"
    assert kept.post(f"{south}/apply-template/", {"template": str(template.pk)}).status_code == 404
    assert kept.post(f"{south}/save-as-template/", {"name": "S"}).status_code == 404
    assert kept.post(f"{north}/save-as-template/", {"name": "N"}).status_code == 201


# --- Every new endpoint: suspended users and other clients' tokens -------------------------------------


def _new_paths(sophie, texts, template, world) -> list[tuple[str, str]]:
    draft, text, north = sophie["draft"].pk, texts["unmatched"].pk, world.north.pk
    return [
        ("get", "/api/planned-replies/"),
        ("get", f"/api/planned-replies/{draft}/"),
        *(("post", f"/api/planned-replies/{draft}/{verb}/") for verb in ("send", "discard", "cancel", "send-now")),
        ("get", "/api/handoffs/"),
        ("get", f"/api/handoffs/{sophie['handoff'].pk}/"),
        ("post", f"/api/handoffs/{sophie['handoff'].pk}/clear/"),
        ("get", "/api/inbox-texts/"),
        ("get", f"/api/inbox-texts/{text}/"),
        ("post", f"/api/inbox-texts/{text}/attach/"),
        ("post", f"/api/inbox-texts/{text}/create-lead/"),
        ("get", "/api/campaign-templates/"),
        ("get", f"/api/campaign-templates/{template.pk}/"),
        ("post", f"/api/campaigns/{north}/save-as-template/"),
        ("post", f"/api/campaigns/{north}/apply-template/"),
    ]


def test_a_suspended_user_and_another_clients_token_reach_none_of_it(
    sophie, texts, template, world, as_suspended, as_outsider
):
    for method, path in _new_paths(sophie, texts, template, world):
        assert getattr(Api(None), method)(path).status_code == 401, path
        suspended = getattr(as_suspended, method)(path)
        assert suspended.status_code == 401, (path, suspended.status_code)
        assert suspended.json()["error"]["message"] == "The token's user is suspended."
        outsider = getattr(as_outsider, method)(path)
        assert outsider.status_code == 403, (path, outsider.status_code)
        assert outsider.json()["error"]["code"] == "permission_denied"
    assert _planned(sophie, "draft").status == "draft" and _planned(sophie, "scheduled").status == "scheduled"
    assert _row(texts["unmatched"]).outcome == "unmatched"
    assert Conversation.objects.get(pk=sophie["handoff"].pk).handoff_at is not None
    assert set(CampaignSettings.objects.filter(is_template=True).values_list("name", flat=True)) == TEMPLATES


def test_the_new_lists_are_walked_page_by_page_without_repeats(sophie, texts, template, as_owner):
    CampaignSettings.objects.create(name=None, is_template=True)  # a nameless template sorts last
    CampaignSettings.objects.create(name="Gentle", is_template=True)  # a tie on the name
    for path, expected in (
        ("/api/campaign-templates/", CampaignSettings.objects.filter(is_template=True).count()),
        ("/api/planned-replies/", 2),
        ("/api/inbox-texts/", 4),
        ("/api/handoffs/", 1),
    ):
        seen, url = [], f"{path}?limit=1"
        while url:
            page = as_owner.get(url)
            assert page.status_code == 200, (path, page.content)
            seen += [row["id"] for row in page.json()["results"]]
            url = page.json()["next"]
        assert len(seen) == len(set(seen)) == expected, path
    names = [row["name"] for row in as_owner.get("/api/campaign-templates/").json()["results"]]
    assert names[-1] is None and names[:3] == ["Default", "Gentle", "Gentle"]
    assert as_owner.get("/api/inbox-texts/?cursor=nonsense").status_code == 400
