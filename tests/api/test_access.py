"""Every endpoint as the owner, a rep restricted to one dataset, a read-only user, a suspended user and an
outsider (another client's token): the dashboard's role and dataset rules, over the API."""

import pytest

from clients.models import ApiToken

pytestmark = pytest.mark.django_db


def _paths(world, token_id=None) -> list[tuple[str, str]]:
    """(method, path) of every endpoint, with ids of client alpha's objects."""
    north, lead = world.north.pk, world.north_lead.pk
    paths = [
        ("get", "/api/datasets/"),
        ("get", f"/api/datasets/{north}/"),
        ("get", "/api/leads/"),
        ("get", f"/api/leads/{lead}/"),
        ("patch", f"/api/leads/{lead}/"),
        ("get", "/api/suppressions/"),
        ("post", "/api/suppressions/"),
        ("get", f"/api/suppressions/{world.suppression.pk}/"),
        ("delete", f"/api/suppressions/{world.suppression.pk}/"),
        ("get", "/api/uploads/"),
        ("post", "/api/uploads/start/"),
        ("get", "/api/conversations/"),
        ("get", "/api/messages/"),
        ("post", "/api/messages/"),
        ("get", "/api/campaigns/"),
        ("get", f"/api/campaigns/{north}/"),
        ("get", f"/api/campaigns/{north}/settings/"),
        ("patch", f"/api/campaigns/{north}/settings/"),
        ("post", f"/api/campaigns/{north}/start/"),
        ("post", f"/api/campaigns/{north}/pause/"),
        ("post", f"/api/campaigns/{north}/resume/"),
        ("post", f"/api/campaigns/{north}/complete/"),
        ("get", "/api/inbox/"),
        ("get", "/api/notifications/"),
        ("get", f"/api/notifications/{world.notification.pk}/"),
        ("post", f"/api/notifications/{world.notification.pk}/read/"),
        ("post", "/api/notifications/read-all/"),
        ("get", "/api/api-tokens/"),
        ("post", "/api/api-tokens/"),
        ("get", "/api/lead-data/export/?phone_number=%2B447700900100"),
        ("post", "/api/lead-data/erase/"),
        ("get", "/api/schema/"),
    ]
    if token_id:
        paths += [("get", f"/api/api-tokens/{token_id}/"), ("delete", f"/api/api-tokens/{token_id}/")]
    return paths


def _call(api, method, path):
    return getattr(api, method)(path)


def test_a_suspended_users_token_opens_nothing(world, as_suspended):
    token = ApiToken.objects.get(user__email="gone@alpha.example")
    for method, path in _paths(world, token.pk):
        response = _call(as_suspended, method, path)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response["WWW-Authenticate"] == "Token"
        if path != "/api/schema/":  # the schema answers in its own format (YAML by default)
            assert response.json()["error"]["message"] == "The token's user is suspended."


def test_another_clients_token_opens_nothing_here(world, as_outsider):
    for method, path in _paths(world):
        response = _call(as_outsider, method, path)
        assert response.status_code == 403, (method, path, response.status_code)
        if path != "/api/schema/":
            assert response.json()["error"]["code"] == "permission_denied"


def test_no_token_opens_nothing(world):
    from tests.api.conftest import Api

    for method, path in _paths(world):
        response = _call(Api(None), method, path)
        assert response.status_code == 401, (method, path)
        if path != "/api/schema/":
            assert response.json()["error"]["code"] == "not_authenticated"


READS = [
    "/api/datasets/",
    "/api/leads/",
    "/api/uploads/",
    "/api/conversations/",
    "/api/messages/",
    "/api/campaigns/",
    "/api/inbox/",
    "/api/notifications/",
    "/api/api-tokens/",
]


@pytest.mark.parametrize("who", ["as_owner", "as_rep", "as_reader"])
def test_every_member_reads_every_list(world, who, request):
    api = request.getfixturevalue(who)
    for path in READS:
        response = api.get(path)
        assert response.status_code == 200, (path, response.content)
        assert set(response.json()) == {"next", "results"}


def test_the_owner_sees_both_datasets_and_the_rep_only_hers(world, as_owner, as_rep):
    def names(api):
        return {row["name"] for row in api.get("/api/datasets/").json()["results"]}

    assert names(as_owner) == {"North", "South"}
    assert names(as_rep) == {"North"}
    assert {row["dataset"] for row in as_rep.get("/api/leads/").json()["results"]} == {str(world.north.pk)}
    assert {row["name"] for row in as_rep.get("/api/campaigns/").json()["results"]} == {"North"}


def test_the_rep_cannot_reach_the_other_datasets_objects(world, as_rep):
    for path in (
        f"/api/datasets/{world.south.pk}/",
        f"/api/leads/{world.south_lead.pk}/",
        f"/api/campaigns/{world.south.pk}/",
        f"/api/campaigns/{world.south.pk}/settings/",
    ):
        response = as_rep.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"] == {
            "code": "not_found",
            "message": "Not found, or not visible to you.",
            "fields": {},
        }
    sent = as_rep.post("/api/messages/", {"lead": str(world.south_lead.pk), "text": "Hello"})
    assert sent.status_code == 404


def test_the_rep_works_leads_but_runs_no_campaign_and_no_suppressions(world, as_rep):
    lead = world.north_lead
    assert as_rep.patch(f"/api/leads/{lead.pk}/", {"contact_status": "WARM"}).status_code == 200
    assert as_rep.post("/api/messages/", {"lead": str(lead.pk), "text": "Hi, Jo here"}).status_code == 201
    assert as_rep.post(f"/api/campaigns/{world.north.pk}/start/").status_code == 403
    assert as_rep.patch(f"/api/campaigns/{world.north.pk}/settings/", {"agent_name": "Jo"}).status_code == 403
    assert as_rep.get("/api/suppressions/").status_code == 403
    assert as_rep.post("/api/uploads/start/", multipart=True).status_code == 403


def test_a_read_only_user_reads_but_changes_nothing(world, as_reader):
    lead, north = world.north_lead, world.north
    refused = [
        as_reader.patch(f"/api/leads/{lead.pk}/", {"contact_status": "WARM"}),
        as_reader.post("/api/messages/", {"lead": str(lead.pk), "text": "Hello"}),
        as_reader.get("/api/suppressions/"),
        as_reader.post("/api/suppressions/", {"phone_number": "07700900123"}),
        as_reader.delete(f"/api/suppressions/{world.suppression.pk}/"),
        as_reader.post("/api/uploads/start/", multipart=True),
        as_reader.patch(f"/api/campaigns/{north.pk}/settings/", {"agent_name": "Jo"}),
        *(as_reader.post(f"/api/campaigns/{north.pk}/{verb}/") for verb in ("start", "pause", "resume", "complete")),
        as_reader.get("/api/lead-data/export/?phone_number=%2B447700900100"),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert all(set(r.json()["error"]) == {"code", "message", "fields"} for r in refused)
    assert as_reader.get(f"/api/campaigns/{north.pk}/settings/").status_code == 200
    assert lead.__class__.objects.get(pk=lead.pk).contact_status == lead.contact_status


def test_notifications_are_the_callers_own(world, as_owner, as_reader):
    assert [row["title"] for row in as_owner.get("/api/notifications/").json()["results"]] == ["Hot lead: Lead0"]
    assert as_reader.get("/api/notifications/").json()["results"] == []
    assert as_reader.get(f"/api/notifications/{world.notification.pk}/").status_code == 404
