"""What every endpoint shares: keyset pages, one error shape, 400 for malformed input, throttling per token,
and Idempotency-Key on the POSTs that send a text or start an import."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Message
from clients.models import ApiIdempotencyKey
from leads.models import Lead
from tests.api.conftest import Api, messages_to, token_for

pytestmark = pytest.mark.django_db


def _all_pages(api, path):
    seen, url, pages = [], path, 0
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    return seen, pages


def test_keyset_pages_never_repeat_or_skip_rows_that_share_a_value(world, as_owner):
    same_moment = timezone.now() - timedelta(days=1)
    Lead.objects.filter(dataset=world.north).update(created_at=same_moment, last_message_at=None)
    Lead.objects.bulk_create(
        [Lead(dataset=world.north, first_name="Tie", phone_number=f"+4477009002{n:02d}") for n in range(25)]
    )
    Lead.objects.filter(first_name="Tie").update(created_at=same_moment)
    expected = set(Lead.objects.values_list("pk", flat=True))
    sorts = ("-created_at", "created_at", "first_name", "-first_name", "last_message_at", "-last_message_at")
    for sort in (*sorts, "phone_number", "-reply_received_at"):
        ids, pages = _all_pages(as_owner, f"/api/leads/?limit=4&sort={sort}")
        assert len(ids) == len(set(ids)) == len(expected), sort
        assert {str(pk) for pk in expected} == set(ids), sort
        assert pages == -(-len(expected) // 4)


def test_a_sort_is_applied_and_filters_combine(world, as_owner):
    Lead.objects.filter(pk=world.north_lead.pk).update(contact_status="HOT", reply_received_at=timezone.now())
    body = as_owner.get(f"/api/leads/?dataset={world.north.pk}&status=HOT&archived=no").json()
    assert [row["id"] for row in body["results"]] == [str(world.north_lead.pk)]
    names = [row["first_name"] for row in as_owner.get("/api/leads/?sort=first_name").json()["results"]]
    assert names == sorted(names)
    assert as_owner.get("/api/leads/?q=Sid").json()["results"][0]["first_name"] == "Sid"
    assert as_owner.get("/api/leads/?q=07700 900777").json()["results"][0]["first_name"] == "Sid"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/leads/?dataset=north", "dataset"),
        ("/api/leads/?status=SHOUTING", "status"),
        ("/api/leads/?sort=phone", "sort"),
        ("/api/leads/?archived=maybe", "archived"),
        ("/api/leads/?limit=0", "limit"),
        ("/api/leads/?limit=5000", "limit"),
        ("/api/leads/?cursor=not-a-cursor", "after"),
        ("/api/leads/?cursor=WyJ4Il0", "after"),
        ("/api/datasets/?limit=0", "limit"),
        ("/api/datasets/?cursor=WyJ4Il0", "cursor"),
        ("/api/messages/?direction=sideways", "direction"),
        ("/api/inbox/?kind=everything", "kind"),
    ],
)
def test_a_malformed_parameter_is_a_400_naming_it(world, as_owner, path, field):
    response = as_owner.get(path)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    if path.startswith("/api/leads/"):  # the leads table's own parser (leads.table) names the parameter
        assert error["code"] == "parse_error" and field in error["message"]
    else:
        assert error["code"] == "invalid" and field in error["fields"]


@pytest.mark.parametrize(
    "path", ["/api/leads/12/", "/api/datasets/x/", "/api/campaigns/1/settings/", "/api/uploads/abc/rejected/"]
)
def test_a_malformed_id_is_a_400_never_a_500(world, as_owner, path):
    response = as_owner.get(path)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("id must be an id")


def test_a_field_error_names_the_field(world, as_owner):
    response = as_owner.patch(f"/api/leads/{world.north_lead.pk}/", {"contact_status": "SHOUTING"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert list(response.json()["error"]["fields"]) == ["contact_status"]


def test_past_the_rate_a_token_gets_429_with_retry_after_and_another_token_is_unaffected(
    world, owner, as_owner, settings
):
    settings.DBR_API_RATE = "3/m"
    codes = [as_owner.get("/api/datasets/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = as_owner.get("/api/datasets/")
    assert refused.json()["error"]["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert Api(token_for(owner)).get("/api/datasets/").status_code == 200  # counted per token


def test_last_used_is_written_once_in_a_while_not_on_every_request(world, owner):
    from clients.models import ApiToken

    api = Api(token_for(owner))
    api.get("/api/datasets/")
    token = ApiToken.objects.get(user=owner)
    first = token.last_used_at
    assert first is not None
    api.get("/api/datasets/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=10))
    api.get("/api/datasets/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_a_repeated_idempotency_key_returns_the_first_answer_and_sends_once(world, as_owner):
    lead = world.north_lead
    body = {"lead": str(lead.pk), "text": "Hi, it's Jo from Acme Solar"}
    first = as_owner.post("/api/messages/", body, HTTP_IDEMPOTENCY_KEY="send-1")
    again = as_owner.post("/api/messages/", body, HTTP_IDEMPOTENCY_KEY="send-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert messages_to(lead) == 1
    assert as_owner.post("/api/messages/", body, HTTP_IDEMPOTENCY_KEY="send-2").status_code == 201
    assert messages_to(lead) == 2


@pytest.mark.parametrize(
    ("lead", "text"), [("north", 42), ("north", True), ("north", ["Hi"]), (7, "Hello"), (None, "Hello")]
)
def test_a_staff_text_of_the_wrong_type_is_refused_not_turned_into_a_string(world, as_owner, lead, text):
    """A CRM field mapped wrong must not text a lead "42", nor read 7 as the lead UUID(int=7)."""
    body = {"lead": str(world.north_lead.pk) if lead == "north" else lead, "text": text}

    response = as_owner.post("/api/messages/", body)

    assert response.status_code == 400, response.content
    assert set(response.json()["error"]["fields"]) & {"lead", "text"}
    assert messages_to(world.north_lead) == 0


def test_a_repeat_while_the_first_is_running_is_told_to_wait_not_sent_again(world, owner, as_owner):
    ApiIdempotencyKey.objects.create(
        user=owner, key="busy", schema_name="alpha", method="POST", path="/api/messages/", status_code=None
    )
    response = as_owner.post(
        "/api/messages/", {"lead": str(world.north_lead.pk), "text": "Hello"}, HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "request_in_progress"
    assert Message.objects.count() == 0


def test_a_key_reused_for_another_request_is_refused(world, as_owner):
    body = {"lead": str(world.north_lead.pk), "text": "Hello"}
    as_owner.post("/api/messages/", body, HTTP_IDEMPOTENCY_KEY="k")
    response = as_owner.post("/api/uploads/start/", {}, multipart=True, HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_a_refused_send_frees_its_key(world, as_owner):
    body = {"lead": str(world.north_lead.pk), "text": ""}
    assert as_owner.post("/api/messages/", body, HTTP_IDEMPOTENCY_KEY="fix-me").status_code == 400
    body["text"] = "Now with words"
    assert as_owner.post("/api/messages/", body, HTTP_IDEMPOTENCY_KEY="fix-me").status_code == 201


def test_the_api_keeps_answering_when_redis_is_down(world, as_owner, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from clients.api_base import TokenRateThrottle

    def down(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(TokenRateThrottle.cache._cache, "get_client", down)
    assert as_owner.get("/api/datasets/").status_code == 200


def test_a_lead_page_has_the_same_json_as_the_generic_model_serializer(world, owner, as_owner):
    """The leads list serializes without a ModelSerializer per page (leads.api.lead_data): every key, type and
    format (UUIDs, summer and winter times in the site's zone, nulls, choices) matches DRF's own output."""
    from rest_framework import serializers
    from rest_framework.renderers import JSONRenderer

    from leads.api import LeadSerializer

    summer, winter = timezone.now().replace(month=7, day=1), timezone.now().replace(month=1, day=2)
    Lead.objects.filter(pk=world.north_lead.pk).update(
        m1_sent_at=summer, reply_received_at=winter, call_booked=True, assigned_to=owner, total_messages=3
    )
    body = as_owner.get("/api/leads/").json()
    assert body["results"]
    for row in body["results"]:
        lead = Lead.objects.get(pk=row["id"])
        generic = serializers.ModelSerializer.to_representation(LeadSerializer(), lead)
        assert row == json.loads(JSONRenderer().render(generic))
        assert list(row) == list(LeadSerializer().fields)
    one = as_owner.get(f"/api/leads/{world.north_lead.pk}/").json()
    assert one["assigned_to"] == str(owner.pk) and one["call_booked"] is True
    assert one["m1_sent_at"].endswith("+01:00") and one["reply_received_at"].endswith("Z")
