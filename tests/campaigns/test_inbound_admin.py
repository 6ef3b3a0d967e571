"""Inbound texts in the client admin: read-only, and "re-process" for texts that ended in error."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import inbound as inbound_module
from campaigns.inbound import inbound_process, inbound_reprocess, inbound_store
from campaigns.models import Conversation, InboundSms, Message
from leads.models import Lead
from tests.campaigns.helpers import NUMBER, campaign_dataset

HOST = {"HTTP_HOST": "alpha.localhost"}
LIST = "/admin/campaigns/inboundsms/"


@pytest.fixture
def lead(alpha) -> Lead:
    return campaign_dataset(name="Admin", leads=1).leads.get()


def _stored(lead: Lead, body: str = "Yes please", sid: str = "SM" + "1" * 32) -> InboundSms:
    params = {"MessageSid": sid, "From": lead.phone_number, "To": NUMBER, "Body": body}
    return inbound_store(params=params, at=timezone.now() - timedelta(minutes=5))[0]


def _errored(lead: Lead, monkeypatch) -> InboundSms:
    """A text whose three tries all failed (a bug, an outage): shown to staff as `error`."""
    row = _stored(lead)

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    with monkeypatch.context() as patch:
        patch.setattr(inbound_module, "_record_reply", broken)
        for _ in range(inbound_module.MAX_ATTEMPTS):
            inbound_process(inbound_id=row.pk, at=timezone.now())
    row.refresh_from_db()
    assert (row.outcome, row.attempts, row.message_id) == ("error", 3, None)
    return row


def test_it_reprocesses_a_row_that_ended_in_error(lead, monkeypatch):
    row = _errored(lead, monkeypatch)
    at = timezone.now()

    done = inbound_reprocess(inbound=row, at=at)

    assert (done.outcome, done.processed_at, done.attempts, done.error) == ("matched", at, 1, "")
    message = Message.objects.get(lead=lead, direction="inbound")
    assert done.message_id == message.pk and message.twilio_sid == row.message_sid


def test_it_leaves_any_other_row_alone_and_never_makes_a_second_message(lead):
    row = _stored(lead)
    inbound_process(inbound_id=row.pk, at=timezone.now())
    row.refresh_from_db()

    assert inbound_reprocess(inbound=row, at=timezone.now()) is None

    again = InboundSms.objects.get(pk=row.pk)
    assert (again.outcome, again.processed_at, again.attempts) == ("matched", row.processed_at, 1)
    assert Message.objects.filter(direction="inbound").count() == 1


def test_a_second_try_that_fails_again_goes_back_to_the_sweep(lead, monkeypatch):
    row = _errored(lead, monkeypatch)
    # A Message already holds this text's SID (say, written by hand): the unique SID refuses a second.
    conversation = Conversation.objects.create(lead=lead, dataset=lead.dataset)
    Message.objects.create(
        conversation=conversation, lead=lead, direction="inbound", content="Yes please", twilio_sid=row.message_sid
    )

    done = inbound_reprocess(inbound=row, at=timezone.now())

    assert (done.outcome, done.processed_at, done.attempts) == ("", None, 1)
    assert "IntegrityError" in done.error
    assert Message.objects.filter(twilio_sid=row.message_sid).count() == 1


def test_the_admin_lists_texts_read_only(lead, owner, client):
    _stored(lead, body="Is this still available?")
    client.force_login(owner)

    page = client.get(LIST, **HOST)

    assert page.status_code == 200
    assert "Is this still available?" in page.content.decode() and lead.phone_number in page.content.decode()
    assert client.get(LIST + "add/", **HOST).status_code == 403
    row = InboundSms.objects.get()
    change = client.post(f"{LIST}{row.pk}/change/", {"body": "edited"}, **HOST)
    assert change.status_code == 403
    assert InboundSms.objects.get().body == "Is this still available?"


def test_the_admin_action_reprocesses_errors_and_says_what_it_skipped(lead, owner, client, monkeypatch):
    errored = _errored(lead, monkeypatch)
    fine = _stored(lead, body="Thanks", sid="SM" + "2" * 32)
    inbound_process(inbound_id=fine.pk, at=timezone.now())
    client.force_login(owner)

    response = client.post(
        LIST, {"action": "reprocess", "_selected_action": [errored.pk, fine.pk]}, follow=True, **HOST
    )

    page = response.content.decode()
    assert "1 text(s) re-processed: 1 matched." in page
    assert "1 text(s) left as they were: only texts whose outcome is “error” can be re-processed." in page
    errored.refresh_from_db()
    assert errored.outcome == "matched" and errored.message_id is not None


def test_a_sales_rep_cannot_open_the_admin(lead, teammate, client):
    _stored(lead)
    client.force_login(teammate)

    assert client.get(LIST, **HOST).status_code == 302  # to the login page: not an admin of this client
