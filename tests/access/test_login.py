"""Login on the client's host, throttling, suspension, password reset and invitations, end to end."""

import re

import pytest
from django.core import mail

from clients.models import User
from tests.conftest import PASSWORD

ALPHA = {"HTTP_HOST": "alpha.localhost"}


def _login(client, email, password=PASSWORD, host=ALPHA):
    return client.post("/login/", {"username": email, "password": password}, **host)


def test_it_signs_in_on_the_clients_host_and_records_the_time(owner, client):
    response = _login(client, owner.email)

    assert response.status_code == 302 and response["Location"] == "/"
    owner.refresh_from_db()
    assert owner.last_login_at is not None
    assert client.get("/", **ALPHA).status_code == 200


def test_it_accepts_the_email_in_any_case(owner, client):
    assert _login(client, owner.email.upper()).status_code == 302


def test_it_refuses_a_wrong_password_with_a_clear_message(owner, client):
    response = _login(client, owner.email, "wrong")

    assert response.status_code == 200
    assert "don&#x27;t match an account" in response.content.decode()


def test_it_tells_a_user_of_another_client_where_to_sign_in(outsider, alpha, client):
    response = _login(client, outsider.email)

    assert response.status_code == 200
    assert "Sign in at" in response.content.decode() and "beta.localhost" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_tells_a_client_user_on_the_public_host_their_address(owner, client):
    response = _login(client, owner.email, host={"HTTP_HOST": "localhost"})

    assert "alpha.localhost" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_platform_staff_sign_in_on_the_public_host(make_user, client):
    make_user(None, "ops@dbr.example", is_staff=True)

    response = _login(client, "ops@dbr.example", host={"HTTP_HOST": "localhost"})

    assert response.status_code == 302
    assert client.get("/admin/", HTTP_HOST="localhost").status_code == 200


def test_client_users_cannot_use_the_public_admin(owner, client):
    client.force_login(owner)

    assert client.get("/admin/clients/client/", HTTP_HOST="localhost").status_code == 302


def test_it_refuses_a_suspended_user_with_the_reason(owner, client):
    User.objects.filter(pk=owner.pk).update(status=User.Status.SUSPENDED)

    response = _login(client, owner.email)

    assert "suspended" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_suspending_ends_an_open_session(owner, client):
    client.force_login(owner)
    User.objects.filter(pk=owner.pk).update(status=User.Status.SUSPENDED)

    assert client.get("/", **ALPHA).status_code == 302


def test_it_throttles_repeated_failures_with_a_clear_message(owner, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, owner.email, "wrong")

    response = _login(client, owner.email)  # even the right password is refused now

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def _link_in_last_email(path_prefix: str) -> str:
    body = mail.outbox[-1].body
    match = re.search(rf"https?://[^/\s]+({path_prefix}[^\s]+)", body)
    assert match, body
    return match.group(1)


def test_password_reset_end_to_end(owner, client):
    client.post("/password-reset/", {"email": owner.email}, **ALPHA)
    assert mail.outbox[-1].to == [owner.email]
    assert "alpha.localhost" in mail.outbox[-1].body
    link = _link_in_last_email("/reset/")

    form_page = client.get(link, follow=True, **ALPHA)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Fresh-solar-2027", "new_password2": "Fresh-solar-2027"},
        **ALPHA,
    )

    assert _login(client, owner.email, "Fresh-solar-2027").status_code == 302


def test_password_reset_sends_nothing_for_another_clients_user(outsider, alpha, client):
    client.post("/password-reset/", {"email": outsider.email}, **ALPHA)

    assert mail.outbox == []


def test_an_invited_user_sets_a_password_and_signs_in(owner, client):
    client.force_login(owner)
    client.post("/settings/users/invite/", {"email": "newbie@alpha.example", "role": "sales_rep"}, **ALPHA)
    client.logout()
    invited = User.objects.get(email="newbie@alpha.example")
    assert invited.status == User.Status.INVITED and invited.client_id == owner.client_id
    assert "invitation email" in _login(client, invited.email, "anything").content.decode()

    link = _link_in_last_email("/invite/")
    form_page = client.get(link, follow=True, **ALPHA)
    assert form_page.status_code == 200 and b"Choose a password" in form_page.content
    client.post(
        form_page.redirect_chain[-1][0],
        {
            "first_name": "Nia",
            "last_name": "Jones",
            "new_password1": "Welsh-valleys-99",
            "new_password2": "Welsh-valleys-99",
        },
        **ALPHA,
    )

    invited.refresh_from_db()
    assert invited.status == User.Status.ACTIVE and invited.first_name == "Nia"
    assert _login(client, invited.email, "Welsh-valleys-99").status_code == 302


def test_an_invite_link_works_once(owner, client):
    client.force_login(owner)
    client.post("/settings/users/invite/", {"email": "once@alpha.example", "role": "sales_rep"}, **ALPHA)
    client.logout()
    link = _link_in_last_email("/invite/")
    page = client.get(link, follow=True, **ALPHA)
    client.post(
        page.redirect_chain[-1][0], {"new_password1": "Welsh-valleys-99", "new_password2": "Welsh-valleys-99"}, **ALPHA
    )

    again = client.get(link, follow=True, **ALPHA)

    assert b"no longer works" in again.content


@pytest.mark.parametrize("email", ["", "not-an-email", "owner@alpha.example"])
def test_an_invite_with_a_bad_or_taken_email_is_refused_with_the_reason(owner, client, email):
    client.force_login(owner)

    response = client.post("/settings/users/invite/", {"email": email, "role": "sales_rep"}, **ALPHA)

    assert response.status_code == 200
    assert b"field-error" in response.content
    assert User.objects.filter(email__iexact=email or "-").count() == (1 if email == "owner@alpha.example" else 0)
