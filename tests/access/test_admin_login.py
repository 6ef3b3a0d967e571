"""Signing in to either admin through the product's login page ends in the admin, never in a loop."""

from tests.conftest import PASSWORD

PUBLIC = {"HTTP_HOST": "localhost"}
ALPHA = {"HTTP_HOST": "alpha.localhost"}


def _sign_in_from_the_admin(client, email, host):
    """The path a browser takes from the banner's admin link: admin → login page → admin."""
    to_login = client.get("/admin/", follow=True, **host)
    login_url, _ = to_login.redirect_chain[-1]
    assert login_url.startswith("/login/")
    return client.post(login_url, {"username": email, "password": PASSWORD}, follow=True, **host)


def test_it_brings_platform_staff_to_the_public_admin(make_user, client):
    make_user(None, "ops@dbr.example", is_staff=True)

    response = _sign_in_from_the_admin(client, "ops@dbr.example", PUBLIC)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "Clients, domains and users" in response.content.decode()


def test_it_brings_a_client_admin_to_the_client_admin(owner, client):
    response = _sign_in_from_the_admin(client, owner.email, ALPHA)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/admin/"


def test_it_tells_a_signed_in_user_without_access_instead_of_looping(teammate, client):
    client.force_login(teammate)

    response = client.get("/admin/", follow=True, **ALPHA)

    assert response.status_code == 403
    assert "not for your account" in response.content.decode()


def test_it_ignores_a_next_address_on_another_host(make_user, client):
    staff = make_user(None, "ops@dbr.example", is_staff=True)
    client.force_login(staff)

    response = client.get("/admin/login/?next=https://evil.example/", **PUBLIC)

    assert response["Location"] == "/admin/"
