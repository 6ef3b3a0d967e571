"""The inbox: what needs a person, for each role and dataset restriction; unread counts; texts from unknown numbers."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.models import Conversation, InboundSms, Message
from campaigns.selectors import inbox_entries, unread_count
from clients.models import User
from leads.models import Lead
from tests.campaigns.helpers import NUMBER, campaign_dataset, text_received

HOST = {"HTTP_HOST": "alpha.localhost"}
HTMX = {**HOST, "HTTP_HX_REQUEST": "true"}
STRANGER = "+447700900777"


def _text(from_: str, body: str, *, to: str = NUMBER, minutes_ago: int = 0) -> InboundSms:
    return text_received(from_, body, at=timezone.now() - timedelta(minutes=minutes_ago), to=to)


@pytest.fixture
def inbox(alpha, teammate):
    """Two datasets: in North an unread reply (assigned to the rep) and a HOT lead with nothing unread;
    in South a conversation needing review; and one text each that matched no lead, went to a number
    that is not ours, and failed."""
    north = campaign_dataset(name="North", leads=3)
    south = campaign_dataset(name="South", leads=0)
    replied, hot, quiet = north.leads.order_by("phone_number")
    Lead.objects.filter(pk=replied.pk).update(assigned_to=teammate)
    _text(replied.phone_number, "Yes please, how much?", minutes_ago=5)
    _text(hot.phone_number, "Call me", minutes_ago=30)
    Message.objects.filter(lead=hot).update(read_at=timezone.now())
    Lead.objects.filter(pk=hot.pk).update(contact_status="HOT")
    review = Lead.objects.create(dataset=south, first_name="Rhian", phone_number="+447700900300")
    Conversation.objects.create(lead=review, dataset=south, needs_review=True)
    unmatched = _text(STRANGER, "Is this the solar people?", minutes_ago=1)
    foreign = _text("+447700900666", "Wrong line", to="+447700900000", minutes_ago=2)
    failed = InboundSms.objects.create(
        message_sid="SMfailed", from_number="+447700900555", to_number=NUMBER, body="?",
        received_at=timezone.now() - timedelta(minutes=3),
        processed_at=timezone.now(), attempts=3, outcome="error", error="OperationalError: boom",
    )  # fmt: skip
    return {
        "north": north,
        "south": south,
        "replied": replied,
        "hot": hot,
        "quiet": quiet,
        "review": review,
        "unmatched": unmatched,
        "foreign": foreign,
        "failed": failed,
    }


def _shown(entries) -> list:
    return [entry.conversation.lead_id if entry.conversation else entry.text.pk for entry in entries]


# --- What is listed, for whom ----------------------------------------------------------------


def test_it_lists_everything_that_needs_a_person_newest_first(inbox, owner):
    shown = _shown(inbox_entries(owner))

    # review: its conversation started just now; the others in the minutes before.
    assert shown == [inbox[name].pk for name in ("review", "unmatched", "foreign", "failed", "replied", "hot")]
    assert inbox["quiet"].pk not in shown


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("unread", ["replied"]),
        ("hot", ["hot"]),
        ("review", ["review"]),
        ("unmatched", ["unmatched"]),
        ("foreign", ["foreign"]),
        ("errors", ["failed"]),
    ],
)
def test_each_filter_shows_its_kind(inbox, owner, kind, expected):
    assert _shown(inbox_entries(owner, kind=kind)) == [inbox[name].pk for name in expected]


def test_a_rep_sees_only_their_leads_and_no_unknown_numbers(inbox, teammate):
    assert _shown(inbox_entries(teammate)) == [inbox["replied"].pk]
    assert unread_count(teammate) == 1


def test_mine_shows_the_leads_assigned_to_me(inbox, owner, teammate):
    Lead.objects.filter(pk=inbox["hot"].pk).update(assigned_to=owner)

    assert _shown(inbox_entries(owner, mine=True)) == [inbox["hot"].pk]
    assert _shown(inbox_entries(teammate, mine=True)) == [inbox["replied"].pk]


def test_a_user_restricted_to_a_dataset_sees_only_its_conversations(inbox, make_user, alpha):
    manager = make_user(alpha, "south@alpha.example", User.Role.MANAGER, allowed_dataset_ids=[str(inbox["south"].pk)])

    assert _shown(inbox_entries(manager)) == [inbox["review"].pk]
    assert unread_count(manager) == 0


def test_the_page_lists_them_for_the_owner(inbox, owner, client):
    client.force_login(owner)

    body = client.get("/inbox/", **HOST).content.decode()

    for name in ("Yes please, how much?", "Call me", "Rhian", "Is this the solar people?", "Wrong line", "boom"):
        assert name in body
    assert 'hx-trigger="every 10s' in body


def test_the_page_respects_the_role(inbox, teammate, client):
    client.force_login(teammate)

    body = client.get("/inbox/", **HOST).content.decode()

    assert "Yes please, how much?" in body
    for hidden in ("Call me", "Rhian", "Is this the solar people?", "Wrong line"):
        assert hidden not in body


def test_read_only_users_read_the_inbox_but_get_no_reply_box(inbox, make_user, alpha, client):
    client.force_login(make_user(alpha, "ro@alpha.example", User.Role.READ_ONLY))

    page = client.get(f"/inbox/?lead={inbox['replied'].pk}", **HOST).content.decode()

    assert "Yes please, how much?" in page and "can read this conversation but not reply" in page


def test_polling_returns_the_list_and_the_nav_count(inbox, owner, client):
    client.force_login(owner)

    response = client.get("/inbox/?kind=unread", HTTP_HX_TARGET="inbox-list", **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="inbox-list"')
    assert "Yes please, how much?" in body and "Call me" not in body
    assert 'id="inbox-unread"' in body and 'hx-swap-oob="true"' in body
    assert "<nav" not in body


def test_the_filter_links_work_without_htmx(inbox, owner, client):
    client.force_login(owner)

    body = client.get("/inbox/?kind=hot&mine=1", **HOST).content.decode()

    assert 'aria-checked="true"' in body and "Nothing here needs a person" in body


# --- Unread and read -------------------------------------------------------------------------


def test_the_nav_shows_the_unread_count(inbox, owner, client):
    client.force_login(owner)

    body = client.get("/", **HOST).content.decode()

    assert 'href="/inbox/"' in body and "unread texts: </span>1</span>" in body


def test_opening_the_lead_page_reads_it_for_the_whole_team(inbox, owner, teammate, client):
    client.force_login(owner)

    client.get(f"/leads/{inbox['replied'].pk}/", **HOST)

    assert unread_count(owner) == unread_count(teammate) == 0
    assert Message.objects.get(lead=inbox["replied"]).read_at is not None


def test_opening_a_conversation_in_the_inbox_reads_it_and_refreshes_the_list(inbox, teammate, client):
    client.force_login(teammate)

    response = client.get(f"/inbox/?lead={inbox['replied'].pk}", HTTP_HX_TARGET="inbox-conversation", **HTMX)

    body = response.content.decode()
    assert "Yes please, how much?" in body and 'id="reply-form"' in body and "<nav" not in body
    assert json.loads(response["HX-Trigger"]) == {"inbox-read": {}}
    assert unread_count(teammate) == 0


def test_a_reply_from_the_inbox_answers_with_the_panel(inbox, teammate, client, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2026, 1, 13, 12, 0, tzinfo=UTC))
    client.force_login(teammate)
    lead = inbox["replied"]

    response = client.post(f"/leads/{lead.pk}/reply/", {"text": "About £6k", "manual_mode": "on"}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200 and "About £6k" in body and 'id="reply-form"' in body
    assert "Reply queued: it is on its way." in body and "<nav" not in body
    assert Message.objects.get(lead=lead, sent_by=teammate).content == "About £6k"


def test_an_unknown_lead_in_the_address_is_a_404(inbox, owner, client):
    client.force_login(owner)

    assert client.get("/inbox/?lead=not-a-uuid", **HOST).status_code == 404


# --- Texts from unknown numbers --------------------------------------------------------------


def test_attaching_an_unknown_number_puts_the_text_in_the_leads_conversation(inbox, owner, client):
    client.force_login(owner)
    lead, text = inbox["quiet"], inbox["unmatched"]

    response = client.post(f"/inbox/texts/{text.pk}/attach/", {"lead": lead.pk}, **HOST)

    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    text.refresh_from_db()
    lead.refresh_from_db()
    assert (text.outcome, text.lead_id) == ("matched", lead.pk) and text.processed_at is not None
    assert text.message.lead_id == lead.pk and text.message.content == "Is this the solar people?"
    assert lead.latest_lead_reply == "Is this the solar people?" and lead.reply_received_at == text.received_at
    assert inbox["unmatched"].pk not in _shown(inbox_entries(owner))


def test_a_text_is_attached_only_once(inbox, owner, client):
    client.force_login(owner)
    text = inbox["unmatched"]
    client.post(f"/inbox/texts/{text.pk}/attach/", {"lead": inbox["quiet"].pk}, **HOST)

    response = client.post(f"/inbox/texts/{text.pk}/attach/", {"lead": inbox["hot"].pk}, **HOST)

    assert response.status_code == 404  # no longer among the texts that matched no lead
    assert Message.objects.filter(inbound_sms=text).get().lead_id == inbox["quiet"].pk


def test_the_text_page_finds_leads_to_attach(inbox, owner, client):
    client.force_login(owner)

    body = client.get(f"/inbox/texts/{inbox['unmatched'].pk}/?q=lead2", **HOST).content.decode()

    assert "Lead2" in body and "Attach" in body and "Lead0" not in body


def test_a_new_lead_is_made_from_an_unknown_number(inbox, owner, client):
    client.force_login(owner)
    text = inbox["unmatched"]

    response = client.post(
        f"/inbox/texts/{text.pk}/lead/",
        {"dataset": inbox["south"].pk, "first_name": "Dai", "last_name": "Jones"},
        **HOST,
    )

    lead = Lead.objects.get(phone_number=STRANGER)
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    assert (lead.dataset_id, lead.full_name) == (inbox["south"].pk, "Dai Jones")
    assert Message.objects.get(lead=lead).content == "Is this the solar people?"
    assert lead.events.filter(event_type="imported", actor=owner).exists()


def test_a_new_lead_is_refused_when_the_dataset_has_the_number(inbox, owner, client):
    client.force_login(owner)
    Lead.objects.create(dataset=inbox["south"], first_name="Already", phone_number=STRANGER)

    response = client.post(
        f"/inbox/texts/{inbox['unmatched'].pk}/lead/", {"dataset": inbox["south"].pk, "first_name": "Dai"}, **HOST
    )

    assert response.status_code == 400 and "already has a lead with" in response.content.decode()
    assert InboundSms.objects.get(pk=inbox["unmatched"].pk).outcome == "unmatched"


def test_a_new_lead_needs_a_first_name(inbox, owner, client):
    client.force_login(owner)

    response = client.post(f"/inbox/texts/{inbox['unmatched'].pk}/lead/", {"dataset": inbox["south"].pk}, **HOST)

    assert response.status_code == 400 and not Lead.objects.filter(phone_number=STRANGER).exists()


def test_a_rep_who_sees_all_leads_may_not_attach(inbox, make_user, alpha, client):
    rep = make_user(alpha, "all@alpha.example", User.Role.SALES_REP, can_view_all_leads=True)
    client.force_login(rep)

    page = client.get(f"/inbox/texts/{inbox['unmatched'].pk}/", **HOST)
    response = client.post(f"/inbox/texts/{inbox['unmatched'].pk}/attach/", {"lead": inbox["quiet"].pk}, **HOST)

    assert page.status_code == 200 and response.status_code == 403
    assert InboundSms.objects.get(pk=inbox["unmatched"].pk).outcome == "unmatched"


def test_a_restricted_user_cannot_open_a_text_from_an_unknown_number(inbox, teammate, client):
    client.force_login(teammate)

    assert client.get(f"/inbox/texts/{inbox['unmatched'].pk}/", **HOST).status_code == 404


# --- Isolation -------------------------------------------------------------------------------


def test_an_outsider_gets_nothing(inbox, outsider, client):
    client.force_login(outsider)
    text, lead = inbox["unmatched"], inbox["replied"]

    responses = [
        client.get("/inbox/", **HOST),
        client.get(f"/inbox/?lead={lead.pk}", **HOST),
        client.get(f"/inbox/texts/{text.pk}/", **HOST),
        client.post(f"/inbox/texts/{text.pk}/attach/", {"lead": lead.pk}, **HOST),
        client.post(f"/leads/{lead.pk}/reply/", {"text": "Hi"}, **HOST),
        client.get(f"/inbox/texts/{text.pk}/", HTTP_HOST="beta.localhost"),
        client.get(f"/inbox/?lead={lead.pk}", HTTP_HOST="beta.localhost"),
    ]

    assert [r.status_code in (403, 404) for r in responses] == [True] * len(responses), [
        r.status_code for r in responses
    ]
    assert not Message.objects.filter(direction="outbound").exists()
