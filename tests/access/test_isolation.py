"""No URL of one client shows its data to a user of another client (session or API token).

Walks every URL pattern of the client URLconf, fills its arguments with client A's object
ids, and requests each as an outsider (client B's owner) — on A's host, and on B's own host.
"""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from campaigns.models import Conversation, Message
from clients.api_tokens import api_token_create
from leads.models import Lead
from leads.services import dataset_create

SKIP_PREFIXES = ("healthz", "login/", "logout/", "password-reset/", "reset/", "invite/", "api/schema/")


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def _fill(route: str, ids: dict) -> str | None:
    """Turns a route into a concrete path using client A's ids; None when it can't be filled."""
    import re

    if route.startswith("^") or "(?P" in route:
        # admin's regex routes: fill the common ones.
        route = route.replace("^", "").replace("$", "").replace("\\Z", "")
        route = re.sub(r"\(\?P<app_label>[^)]*\)\)?", "leads", route)
        if "(?P" in route or "(" in route:
            return None
    path = route
    for match in re.findall(r"<(?:(\w+):)?(\w+)>", route):
        converter, name = match
        value = ids.get(name) or ids.get("pk")
        if converter == "path" and name != "object_id":
            value = ids["file_path"]
        elif converter == "str":
            value = ids.get(name, "exports")
        token = f"<{converter + ':' if converter else ''}{name}>"
        path = path.replace(token, str(value))
    return "/" + path


@pytest.fixture
def alpha_objects(alpha, owner):
    dataset = dataset_create(name="Alpha's secret list")
    lead = Lead.objects.create(
        dataset=dataset, first_name="Secretive", last_name="Alphason", phone_number="+447700900555"
    )
    conversation = Conversation.objects.create(lead=lead, dataset=dataset)
    Message.objects.create(conversation=conversation, lead=lead, content="Alpha private text", direction="inbound")
    return {
        "pk": lead.pk,
        "dataset": dataset,
        "lead": lead,
        "user_pk": owner.pk,
        "uidb64": "MQ",
        "token": "set-password",
        "bucket": "exports",
        "file_path": f"alpha/{uuid.uuid4().hex}/leads.csv",
    }


def _tenant_routes():
    from dbr import urls_tenants

    resolver = get_resolver(urls_tenants)
    return [route for route, _ in _walk(resolver.url_patterns) if not route.startswith(SKIP_PREFIXES)]


def _paths(ids):
    seen = set()
    for route in _tenant_routes():
        for pk in (ids["pk"], ids["dataset"].pk, ids["user_pk"]):
            path = _fill(route, {**ids, "pk": pk, "object_id": pk})
            if path and path not in seen:
                seen.add(path)
                yield path


SECRETS = [b"Secretive", b"Alphason", b"+447700900555", b"Alpha private text", b"secret list"]


def _assert_nothing_leaks(response, path):
    assert response.status_code < 500, f"{path} → {response.status_code}"
    if 200 <= response.status_code < 300:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        for secret in SECRETS:
            assert secret not in body, f"{path} leaked {secret!r}"


def test_every_url_refuses_an_outsider_on_the_other_clients_host(alpha_objects, outsider, client):
    client.force_login(outsider)
    checked = 0
    for path in _paths(alpha_objects):
        for method in ("get", "post"):
            response = getattr(client, method)(path, HTTP_HOST="alpha.localhost")
            _assert_nothing_leaks(response, path)
            assert response.status_code in (403, 404, 405), f"{method} {path} → {response.status_code}"
            checked += 1
    assert checked > 40


def test_every_url_on_the_outsiders_own_host_misses_the_other_clients_ids(alpha_objects, outsider, client):
    client.force_login(outsider)
    for path in _paths(alpha_objects):
        response = client.get(path, HTTP_HOST="beta.localhost")
        _assert_nothing_leaks(response, path)


def test_the_api_refuses_another_clients_token(alpha_objects, outsider, client):
    token = api_token_create(user=outsider, name="test")
    for path in [p for p in _paths(alpha_objects) if p.startswith("/api/")]:
        for method in ("get", "patch"):
            response = getattr(client, method)(
                path,
                HTTP_HOST="alpha.localhost",
                HTTP_AUTHORIZATION=f"Token {token.key}",
                content_type="application/json",
                data={"contact_status": "HOT"} if method == "patch" else None,
            )
            _assert_nothing_leaks(response, path)
            assert response.status_code in (403, 404, 405), f"{method} {path} → {response.status_code}"
    alpha_objects["lead"].refresh_from_db()
    assert alpha_objects["lead"].contact_status == "READY"


def test_the_api_serves_the_owner_with_a_token(alpha_objects, owner, client):
    token = api_token_create(user=owner, name="test")

    response = client.get("/api/leads/", HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert response.json()["results"][0]["phone_number"] == "+447700900555"


def test_anonymous_visitors_are_sent_to_login_not_shown_data(alpha_objects, client):
    for path in _paths(alpha_objects):
        response = client.get(path, HTTP_HOST="alpha.localhost")
        _assert_nothing_leaks(response, path)
        assert response.status_code in (302, 401, 403, 404, 405), f"{path} → {response.status_code}"


def test_an_outsider_is_pointed_to_their_own_host(alpha_objects, outsider, client):
    client.force_login(outsider)

    response = client.get("/", HTTP_HOST="alpha.localhost")

    assert response.status_code == 403
    assert b"beta.localhost" in response.content


def test_platform_staff_are_not_locked_out_of_client_hosts(alpha_objects, make_user, client):
    staff = make_user(None, "ops@dbr.example", is_staff=True)
    client.force_login(staff)

    assert client.get("/", HTTP_HOST="alpha.localhost").status_code == 200
