"""Links in e-mails, trusted origins and the API schema (docs/security.md §4)."""

import re

import pytest
from django.core import mail
from django.test import Client as Browser

from clients.api_tokens import api_token_create
from clients.models import User

ALPHA = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def public_https(settings):
    settings.DBR_PUBLIC_SCHEME = "https"
    settings.DBR_PUBLIC_PORT = None


def _link(prefix: str) -> str:
    return re.search(r"\S+" + prefix + r"\S+", mail.outbox[-1].body).group(0)


def test_a_reset_link_names_the_clients_host_whatever_the_host_header(owner, client, public_https):
    client.post("/password-reset/", {"email": owner.email}, HTTP_HOST="alpha.localhost:6666")

    assert _link("/reset/").startswith("https://alpha.localhost/reset/")


def test_a_reset_link_ignores_a_forwarded_host_and_scheme(owner, client, public_https, settings):
    settings.USE_X_FORWARDED_HOST = True  # even a proxy that passes on what the caller sent

    client.post(
        "/password-reset/",
        {"email": owner.email},
        HTTP_X_FORWARDED_HOST="alpha.localhost:1234",
        HTTP_X_FORWARDED_PROTO="http",
        **ALPHA,
    )

    assert _link("/reset/").startswith("https://alpha.localhost/reset/")


def test_an_invite_link_names_the_clients_host_with_the_public_port(owner, client, settings):
    settings.DBR_PUBLIC_SCHEME, settings.DBR_PUBLIC_PORT = "https", 8443
    client.force_login(owner)

    client.post(
        "/settings/users/invite/", {"email": "new@alpha.example", "role": "sales_rep"}, HTTP_HOST="alpha.localhost:80"
    )

    assert _link("/invite/").startswith("https://alpha.localhost:8443/invite/")


def test_a_staff_reset_link_names_the_public_host(make_user, client, public_https, tenants):
    staff = make_user(None, "staff@dbr.example", User.Role.ADMIN, is_staff=True)

    client.post("/password-reset/", {"email": staff.email}, HTTP_HOST="localhost:9999")

    assert _link("/reset/").startswith("https://localhost/reset/")


def test_a_post_with_another_clients_origin_is_refused(owner, beta):
    browser = Browser(enforce_csrf_checks=True)
    browser.force_login(owner)
    browser.get("/settings/users/invite/", **ALPHA)
    token = browser.cookies["csrftoken"].value
    form = {"email": "x@alpha.example", "role": "sales_rep", "csrfmiddlewaretoken": token}

    foreign = browser.post("/settings/users/invite/", form, HTTP_ORIGIN="http://beta.localhost", **ALPHA)
    own = browser.post("/settings/users/invite/", form, HTTP_ORIGIN="http://alpha.localhost", **ALPHA)

    assert foreign.status_code == 403
    assert own.status_code == 302


def test_the_api_schema_needs_a_signed_in_user_or_a_token(owner, outsider, client):
    assert client.get("/api/schema/", **ALPHA).status_code in (401, 403)
    stranger = api_token_create(user=outsider, name="test")
    assert client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {stranger.key}", **ALPHA).status_code in (401, 403)

    token = api_token_create(user=owner, name="test")
    assert client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token.key}", **ALPHA).status_code == 200
    client.force_login(owner)
    assert client.get("/api/schema/", **ALPHA).status_code == 200
