"""The lead page's actions: each calls its service, for the roles allowed, on leads the user may see only;
the thread marks who wrote what and how it went; the badges say why a lead is quiet."""

from datetime import UTC, datetime

import pytest
from django_tenants.utils import schema_context

from campaigns.models import Conversation, Message
from campaigns.outbox.queue import message_queue
from clients.models import User
from leads.models import Lead, LeadEvent, Suppression
from leads.services import dataset_create
from tests.campaigns.helpers import NUMBER, campaign_dataset

HOST = {"HTTP_HOST": "alpha.localhost"}
BETA = {"HTTP_HOST": "beta.localhost"}
MORNING = datetime(2026, 1, 13, 10, 0, tzinfo=UTC)


@pytest.fixture
def lead(alpha) -> Lead:
    dataset = campaign_dataset(name="Spring", leads=1)
    lead = dataset.leads.get()
    Lead.objects.filter(pk=lead.pk).update(first_name="Gareth", last_name="Evans", contact_status="CONTACTED_1")
    return Lead.objects.select_related("dataset").get(pk=lead.pk)


def _post(client, lead, action, data=None, host=HOST):
    return client.post(f"/leads/{lead.pk}/{action}/", data or {}, **host)


def _reload(lead) -> Lead:
    return Lead.objects.get(pk=lead.pk)


# --- Assign -------------------------------------------------------------------------------------


def test_an_owner_assigns_a_lead_to_a_rep_who_may_see_its_dataset(alpha, owner, teammate, client, lead):
    client.force_login(owner)

    response = _post(client, lead, "assign", {"assigned_to": str(teammate.pk)})

    assert response.status_code == 302
    assert _reload(lead).assigned_to_id == teammate.pk
    assert LeadEvent.objects.filter(lead=lead, event_type="assigned").exists()
    _post(client, lead, "assign", {"assigned_to": ""})
    assert _reload(lead).assigned_to_id is None


def test_a_user_who_cannot_see_the_dataset_is_not_offered_and_is_refused(alpha, owner, make_user, client, lead):
    other = dataset_create(name="Autumn")
    blind = make_user(alpha, "blind@alpha.example", User.Role.SALES_REP, allowed_dataset_ids=[other.pk])
    client.force_login(owner)

    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
    response = _post(client, lead, "assign", {"assigned_to": str(blind.pk)})

    assert str(blind.pk) not in page
    assert response.status_code == 302 and _reload(lead).assigned_to_id is None


def test_a_user_of_another_client_cannot_be_assigned(alpha, owner, outsider, client, lead):
    client.force_login(owner)

    _post(client, lead, "assign", {"assigned_to": str(outsider.pk)})

    assert _reload(lead).assigned_to_id is None


@pytest.mark.parametrize("value", ["not-a-uuid", "x" * 10_000, "'; DROP TABLE leads; --", "\x00"])
def test_garbage_in_the_assignee_is_refused_without_a_500(alpha, owner, client, lead, value):
    client.force_login(owner)

    response = _post(client, lead, "assign", {"assigned_to": value})

    assert response.status_code in (302, 400)
    assert _reload(lead).assigned_to_id is None


# --- Booked, archive, remove and suppress -------------------------------------------------------


def test_marking_a_call_booked_takes_the_lead_out_of_the_cadence_and_clearing_it_makes_it_hot(
    alpha, owner, client, lead
):
    Lead.objects.filter(pk=lead.pk).update(next_step="M2", due_at=MORNING)
    client.force_login(owner)

    _post(client, lead, "booked", {"booked": "1"})
    booked = _reload(lead)
    _post(client, lead, "booked", {"booked": "0"})
    cleared = _reload(lead)

    assert (booked.call_booked, booked.contact_status, booked.next_step, booked.due_at) == (
        True,
        "CALL_BOOKED",
        None,
        None,
    )
    assert (cleared.call_booked, cleared.contact_status) == (False, "HOT")
    types = set(LeadEvent.objects.filter(lead=lead).values_list("event_type", flat=True))
    assert {"call_booked", "call_unbooked", "status_changed", "cadence_left"} <= types


def test_archiving_stops_everything_and_can_be_undone(alpha, owner, client, lead):
    Lead.objects.filter(pk=lead.pk).update(next_step="M2", due_at=MORNING)
    client.force_login(owner)

    _post(client, lead, "archive", {"archived": "1"})
    archived = _reload(lead)
    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
    _post(client, lead, "archive", {"archived": "0"})

    assert archived.archived and archived.archived_at and archived.due_at is None and archived.next_step is None
    assert archived.not_messageable_reason(purpose="staff", suppressed=False) == "the lead is archived"
    assert '<span class="badge quiet" title="The lead is archived.">Archived</span>' in page
    restored = _reload(lead)
    assert not restored.archived and restored.due_at is None  # back out of the archive, not into the cadence
    assert LeadEvent.objects.filter(lead=lead, event_type="unarchived").exists()


def test_remove_and_suppress_cancels_queued_texts_for_the_number(alpha, owner, client, lead):
    queued = message_queue(lead=lead, content="Hi Gareth", message_type=Message.Type.M2, from_number=NUMBER, at=MORNING)
    client.force_login(owner)

    response = _post(client, lead, "remove-and-suppress", {"reason": "Asked us on the phone"})

    assert response.status_code == 302
    suppression = Suppression.objects.get(phone_number=lead.phone_number)
    assert (suppression.source, suppression.reason, suppression.created_by_id) == (
        "staff",
        "Asked us on the phone",
        owner.pk,
    )
    assert _reload(lead).contact_status == "REMOVED"
    queued.refresh_from_db()
    assert queued.status == "cancelled"
    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
    assert ">Suppressed</span>" in page and "Remove and suppress the number" not in page


# --- Roles, datasets and isolation --------------------------------------------------------------

ACTIONS = {
    "assign": {"assigned_to": ""},
    "booked": {"booked": "1"},
    "archive": {"archived": "1"},
    "remove-and-suppress": {},
    "status": {"contact_status": "HOT"},
    "manual-mode": {"enabled": "1"},
}


@pytest.mark.parametrize(
    "role, allowed",
    [
        (User.Role.READ_ONLY, set()),
        (User.Role.SALES_REP, {"booked", "status", "manual-mode"}),
        (User.Role.MANAGER, set(ACTIONS)),
    ],
)
def test_each_action_is_for_the_roles_allowed(alpha, make_user, client, lead, role, allowed):
    user = make_user(alpha, f"{role}@alpha.example", role)
    Lead.objects.filter(pk=lead.pk).update(assigned_to=user)  # a rep sees their own leads
    client.force_login(user)

    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()
    answers = {action: _post(client, lead, action, data).status_code for action, data in ACTIONS.items()}

    assert {action for action, status in answers.items() if status == 302} == allowed
    assert {action for action, status in answers.items() if status == 403} == set(ACTIONS) - allowed
    assert ("Remove and suppress the number" in page) is ("remove-and-suppress" in allowed)
    assert (f'action="/leads/{lead.pk}/archive/"' in page) is ("archive" in allowed)


def test_a_rep_cannot_act_on_a_lead_not_assigned_to_them(alpha, teammate, client, lead):
    client.force_login(teammate)

    assert client.get(f"/leads/{lead.pk}/", **HOST).status_code == 404
    for action, data in ACTIONS.items():
        assert _post(client, lead, action, data).status_code in (403, 404), action
    assert not _reload(lead).call_booked and not _reload(lead).manual_mode


def test_a_manager_limited_to_other_datasets_gets_a_404(alpha, make_user, client, lead):
    other = dataset_create(name="Autumn")
    manager = make_user(alpha, "m@alpha.example", User.Role.MANAGER, allowed_dataset_ids=[other.pk])
    client.force_login(manager)

    for action, data in ACTIONS.items():
        assert _post(client, lead, action, data).status_code == 404, action
    assert not Suppression.objects.filter(phone_number=lead.phone_number).exists()
    assert not _reload(lead).archived


def test_another_clients_owner_cannot_touch_the_lead(alpha, outsider, client, lead):
    client.force_login(outsider)

    for action, data in ACTIONS.items():
        assert _post(client, lead, action, data).status_code in (302, 403, 404), action
        assert _post(client, lead, action, data, host=BETA).status_code == 404, action
    with schema_context("beta"):
        assert not Suppression.objects.exists()
    with schema_context(alpha.schema_name):
        assert not Suppression.objects.filter(phone_number=lead.phone_number).exists()
        assert not _reload(lead).archived and not _reload(lead).call_booked


# --- What the page shows ------------------------------------------------------------------------


def test_the_thread_marks_who_wrote_each_text_and_how_it_went(alpha, owner, client, lead):
    conversation, _ = Conversation.objects.get_or_create(lead=lead, defaults={"dataset": lead.dataset})

    def text(**fields):
        return Message.objects.create(conversation=conversation, lead=lead, **{"content": "…", **fields})

    text(direction="outbound", message_type="M1", status="delivered", content="Cadence text")
    text(
        direction="outbound",
        message_type="M2",
        status="undelivered",
        error_code="30003",
        error_message="The handset is off or out of reach.",
    )
    text(
        direction="inbound",
        status="received",
        content="Yes please",
        classification={"status": "HOT", "intent": "interested", "confidence": 0.9},
    )
    text(direction="outbound", message_type="reply", status="sent", ai_generated=True, ai_quality_score="0.92")
    text(
        direction="outbound",
        message_type="reply",
        status="failed",
        sent_by=owner,
        error_code="21610",
        error_message="The number unsubscribed.",
    )
    client.force_login(owner)

    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()

    for mark in ["by-cadence", "by-lead", "by-sophie", "by-staff"]:
        assert mark in page
    assert "Cadence · M1" in page and "Sophie · AI" in page and f"Staff · by {owner.get_full_name()}" in page
    assert '<span class="badge delivered">✓ Delivered</span>' in page
    assert '<span class="badge undelivered">✕ Undelivered</span>' in page
    assert "Not delivered (error 30003): The handset is off or out of reach." in page
    assert '<span class="badge failed">✕ Failed</span>' in page
    assert "Sophie's score 0.92" in page
    assert "confidence 0.9" in page


@pytest.mark.parametrize(
    "fields, badge",
    [
        ({"sms_capable": False, "sms_capable_reason": "A UK landline"}, "Cannot receive SMS"),
        ({"sms_capable": False, "sms_capable_reason": "Twilio 30006"}, "Cannot receive SMS"),
        ({"is_duplicate": True}, "Duplicate"),
        ({"manual_mode": True}, "Manual mode"),
        ({"archived": True}, "Archived"),
    ],
)
def test_a_quiet_lead_says_why(alpha, owner, client, lead, fields, badge):
    Lead.objects.filter(pk=lead.pk).update(**fields)
    client.force_login(owner)

    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()

    assert f">{badge}</span>" in page
    if fields.get("sms_capable_reason"):
        assert f"The number cannot receive SMS: {fields['sms_capable_reason']}." in page  # the badge's title


def test_a_hot_lead_in_manual_mode_shows_both(alpha, owner, client, lead):
    Lead.objects.filter(pk=lead.pk).update(contact_status="HOT", manual_mode=True)
    client.force_login(owner)

    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()

    assert ">Hot</span>" in page and ">Manual mode</span>" in page


def test_a_lead_the_cadence_may_text_has_no_quiet_badge(alpha, owner, client, lead):
    client.force_login(owner)

    assert 'class="badge quiet"' not in client.get(f"/leads/{lead.pk}/", **HOST).content.decode()


def test_the_timeline_shows_each_events_details(alpha, owner, client, lead):
    client.force_login(owner)
    _post(client, lead, "status", {"contact_status": "WARM"})
    _post(client, lead, "remove-and-suppress", {"reason": "Asked us on the phone"})

    page = client.get(f"/leads/{lead.pk}/", **HOST).content.decode()

    assert "Contacted (M1)" in page or "CONTACTED_1 → WARM" in page
    assert "Why: Asked us on the phone" in page and "Source: staff" in page
