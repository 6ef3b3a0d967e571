"""The role table of docs/architecture.md §2, for every write the product offers (dashboard and API)."""

import pytest
from django.utils import timezone

from campaigns.models import InboundSms, Message
from clients.api_tokens import api_token_create
from clients.models import User
from leads.models import CampaignSettings, Lead
from leads.services import dataset_create
from tests.campaigns.helpers import number_register

ROLES = ["admin", "company_owner", "manager", "sales_rep", "read_only"]

# action → roles allowed (flags off)
ALLOWED = {
    "invite_user": {"admin", "company_owner"},
    "edit_user_access": {"admin", "company_owner"},
    "suspend_user": {"admin", "company_owner"},
    "change_status": {"admin", "company_owner", "manager", "sales_rep"},
    "change_status_api": {"admin", "company_owner", "manager", "sales_rep"},
    "manual_mode": {"admin", "company_owner", "manager", "sales_rep"},
    "client_admin": {"admin", "company_owner"},
    "reply": {"admin", "company_owner", "manager", "sales_rep"},
    "attach_text": {"admin", "company_owner", "manager"},
}


@pytest.fixture
def world(alpha, make_user):
    dataset = dataset_create(name="Roles")
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(twilio_number="+447700900999")
    number_register("+447700900999")
    colleague = make_user(alpha, "colleague@alpha.example", User.Role.SALES_REP)
    return {"dataset": dataset, "colleague": colleague}


def _actor(make_user, alpha, world, role):
    user = make_user(alpha, f"{role}@alpha.example", role)
    lead = Lead.objects.create(
        dataset=world["dataset"], first_name="Ann", phone_number="+447700900321", assigned_to=user
    )
    return user, lead


def _do(action, client, user, lead, world):
    host = {"HTTP_HOST": "alpha.localhost"}
    colleague = world["colleague"]
    if action == "invite_user":
        client.post("/settings/users/invite/", {"email": "new@alpha.example", "role": "sales_rep"}, **host)
        return User.objects.filter(email="new@alpha.example").exists()
    if action == "edit_user_access":
        client.post(f"/settings/users/{colleague.pk}/", {"role": "manager"}, **host)
        colleague.refresh_from_db()
        return colleague.role == "manager"
    if action == "suspend_user":
        client.post(f"/settings/users/{colleague.pk}/suspend/", **host)
        colleague.refresh_from_db()
        return colleague.status == "suspended"
    if action == "change_status":
        client.post(f"/leads/{lead.pk}/status/", {"contact_status": "HOT"}, **host)
        lead.refresh_from_db()
        return lead.contact_status == "HOT"
    if action == "change_status_api":
        token = api_token_create(user=user, name="test")
        client.patch(
            f"/api/leads/{lead.pk}/",
            {"contact_status": "WARM"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token.key}",
            **host,
        )
        lead.refresh_from_db()
        return lead.contact_status == "WARM"
    if action == "manual_mode":
        client.post(f"/leads/{lead.pk}/manual-mode/", {"enabled": "1"}, **host)
        lead.refresh_from_db()
        return lead.manual_mode
    if action == "client_admin":
        return client.get("/admin/leads/lead/", **host).status_code == 200
    if action == "reply":
        client.post(f"/leads/{lead.pk}/reply/", {"text": "Hello"}, **host)
        return Message.objects.filter(lead=lead, sent_by=user).exists()
    if action == "attach_text":
        return _attach_text(client, user, lead, world, host)
    raise AssertionError(action)


def _attach_text(client, user, lead, world, host) -> bool:
    text = InboundSms.objects.create(
        message_sid="SMunknown", from_number="+447700900777", to_number="+447700900999", body="Hi",
        received_at=timezone.now(), processed_at=timezone.now(), outcome="unmatched",
    )  # fmt: skip
    user.can_view_all_leads = True  # a rep sees unknown numbers only when it sees every lead
    user.save(update_fields=["can_view_all_leads"])
    client.post(f"/inbox/texts/{text.pk}/attach/", {"lead": lead.pk}, **host)
    return InboundSms.objects.get(pk=text.pk).lead_id == lead.pk


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_the_role_table(alpha, make_user, world, client, role, action):
    user, lead = _actor(make_user, alpha, world, role)
    client.force_login(user)

    done = _do(action, client, user, lead, world)

    assert done == (role in ALLOWED[action]), f"{role} {'could' if done else 'could not'} {action}"


def test_can_manage_users_gives_a_manager_the_users_page(alpha, make_user, world, client):
    manager = make_user(alpha, "m@alpha.example", User.Role.MANAGER, can_manage_users=True)
    client.force_login(manager)

    assert _do("invite_user", client, manager, None, world)


def test_a_refused_write_says_why(alpha, make_user, world, client):
    reader = make_user(alpha, "reader@alpha.example", User.Role.READ_ONLY)
    client.force_login(reader)

    response = client.post(
        "/settings/users/invite/", {"email": "x@alpha.example", "role": "admin"}, HTTP_HOST="alpha.localhost"
    )

    assert response.status_code == 403


def test_nobody_can_suspend_themselves(alpha, owner, client):
    client.force_login(owner)

    client.post(f"/settings/users/{owner.pk}/suspend/", HTTP_HOST="alpha.localhost", follow=True)

    owner.refresh_from_db()
    assert owner.status == "active"


def test_users_of_another_client_cannot_be_edited_through_this_host(alpha, owner, outsider, client):
    client.force_login(owner)

    response = client.post(f"/settings/users/{outsider.pk}/suspend/", HTTP_HOST="alpha.localhost")

    assert response.status_code == 404
    outsider.refresh_from_db()
    assert outsider.status == "active"
