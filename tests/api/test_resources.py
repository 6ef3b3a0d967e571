"""Each resource does what its dashboard page does, through the same services."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Message
from clients.models import ApiToken, Notification
from leads.importing.run import lead_import
from leads.models import CampaignSettings, Dataset, Lead, Suppression, Upload
from tests.api.conftest import Api, token_for

pytestmark = pytest.mark.django_db

CSV = (
    b"First name,Surname,Email,Mobile\r\n"
    b"Ann,Lee,ann@example.com,07700 900301\r\n"
    b"Bob,Ray,bob@example.com,not a number\r\n"
    b"Cat,Fox,cat@example.com,07700 900302\r\n"
)


def test_an_import_starts_from_a_file_is_polled_and_its_rejected_rows_fetched(world, as_owner):
    started = as_owner.post(
        "/api/uploads/start/",
        {"file": SimpleUploadedFile("enquiries.csv", CSV), "new_dataset_name": "From the CRM"},
        multipart=True,
    )
    assert started.status_code == 202, started.content
    body = started.json()
    assert body["status"] == "processing"
    assert body["column_mapping"] == {
        "First name": "first_name",
        "Surname": "last_name",
        "Email": "email",
        "Mobile": "phone_number",
    }
    upload = Upload.objects.get(pk=body["id"])
    assert upload.dataset.name == "From the CRM"
    polled = as_owner.get(f"/api/uploads/{upload.pk}/").json()
    assert polled["progress"]["phase"] in ("queued", "reading", "saving")
    assert as_owner.get(f"/api/uploads/{upload.pk}/rejected/").status_code == 404

    lead_import(upload=upload, dataset=upload.dataset, mapping=upload.column_mapping, workers=1)  # the worker's part

    done = as_owner.get(f"/api/uploads/{upload.pk}/").json()
    assert (done["status"], done["rows_imported"], done["progress"]) == ("completed", 2, None), done["summary"]
    rejected = as_owner.get(done["rejected_rows_url"])
    assert rejected.status_code == 200 and rejected["Content-Type"].startswith("text/csv")
    text = b"".join(rejected.streaming_content).decode()
    assert "Bob" in text and "Ann" not in text


def test_an_import_is_refused_with_the_wizards_reasons(world, as_owner):
    def start(**fields):
        return as_owner.post("/api/uploads/start/", fields, multipart=True)

    no_target = start(file=SimpleUploadedFile("a.csv", CSV))
    assert no_target.json()["error"]["fields"] == {"new_dataset_name": ["Choose a dataset or name a new one."]}
    empty = start(file=SimpleUploadedFile("a.csv", b""), dataset=str(world.north.pk))
    assert "file" in empty.json()["error"]["fields"]
    bad_mapping = start(file=SimpleUploadedFile("a.csv", CSV), dataset=str(world.north.pk), mapping='{"Mobile": "x"}')
    assert bad_mapping.status_code == 400 and "mapping" in bad_mapping.json()["error"]["fields"]
    not_json = start(file=SimpleUploadedFile("a.csv", CSV), dataset=str(world.north.pk), mapping="Mobile=phone")
    assert not_json.status_code == 400 and "mapping" in not_json.json()["error"]["fields"]
    binary = start(file=SimpleUploadedFile("a.csv", b"\x00\x01PK\x03\x04" * 20), dataset=str(world.north.pk))
    assert binary.status_code == 400 and "file" in binary.json()["error"]["fields"]


def test_an_import_with_an_idempotency_key_is_started_once(world, as_owner):
    def start():
        return as_owner.post(
            "/api/uploads/start/",
            {"file": SimpleUploadedFile("a.csv", CSV), "dataset": str(world.north.pk)},
            multipart=True,
            HTTP_IDEMPOTENCY_KEY="import-monday",
        )

    first, again = start(), start()
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Upload.objects.count() == 1


def test_suppressions_are_listed_added_and_lifted(world, as_owner):
    lead = world.north_lead
    added = as_owner.post("/api/suppressions/", {"phone_number": lead.phone_number, "reason": "Asked by phone"})
    assert added.status_code == 201
    assert added.json()["source"] == "staff" and added.json()["created_by"] == "owner@alpha.example"
    assert Lead.objects.get(pk=lead.pk).contact_status == "REMOVED"  # the page's rule: its leads are removed
    listed = as_owner.get(f"/api/suppressions/?q={lead.phone_number[-6:]}").json()["results"]
    assert [row["phone_number"] for row in listed] == [lead.phone_number]
    assert as_owner.post("/api/suppressions/", {"phone_number": "call me"}).status_code == 400
    assert as_owner.delete(f"/api/suppressions/{added.json()['id']}/").status_code == 204
    assert not Suppression.objects.filter(phone_number=lead.phone_number).exists()


def test_a_staff_text_goes_through_the_reply_service(world, as_owner):
    lead = world.north_lead
    sent = as_owner.post("/api/messages/", {"lead": str(lead.pk), "text": "Hi, it’s Jo"})
    assert sent.status_code == 201
    message = Message.objects.get(pk=sent.json()["message"]["id"])
    assert (message.content, message.message_type, message.sent_by.email) == (
        "Hi, it's Jo",
        "reply",
        "owner@alpha.example",
    )
    assert Lead.objects.get(pk=lead.pk).manual_mode  # taken over, as from the reply box
    listed = as_owner.get(f"/api/messages/?lead={lead.pk}").json()["results"]
    assert [row["id"] for row in listed] == [str(message.pk)]
    assert as_owner.get(f"/api/conversations/?lead={lead.pk}").json()["results"][0]["message_count"] >= 0
    Suppression.objects.create(phone_number=lead.phone_number, source="staff")
    refused = as_owner.post("/api/messages/", {"lead": str(lead.pk), "text": "Again"})
    assert refused.status_code == 400 and "text" in refused.json()["error"]["fields"]


def test_campaign_settings_use_the_forms_validation(world, as_owner):
    path = f"/api/campaigns/{world.north.pk}/settings/"
    current = as_owner.get(path).json()
    assert current["sending_days"] and "m1_message" in current
    bad = as_owner.patch(path, {"sending_timezone": "Mars/Olympus", "m1_message": "Hi {nickname}"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"sending_timezone", "m1_message"}
    assert as_owner.patch(path, {"colour": "green"}).json()["error"]["fields"] == {
        "colour": ["Not a campaign setting."]
    }
    ok = as_owner.patch(path, {"agent_name": "Jo", "sending_hours_end": "18:00"})
    assert ok.status_code == 200, ok.content
    options = Dataset.objects.get(pk=world.north.pk).campaign_settings
    assert (options.agent_name, options.sending_hours_end.hour) == ("Jo", 18)


def test_a_campaign_starts_pauses_resumes_and_completes_with_every_refusal_reason(world, as_owner):
    north = world.north
    base = f"/api/campaigns/{north.pk}"
    CampaignSettings.objects.filter(pk=north.campaign_settings_id).update(sending_hours_start=None)
    Dataset.objects.filter(pk=north.pk).update(archived=True)
    refused = as_owner.post(f"{base}/start/")
    assert refused.status_code == 409
    problems = refused.json()["error"]["fields"]["non_field_errors"]
    assert "The dataset is archived." in problems and "Set the sending hours (start and end)." in problems
    assert as_owner.get(f"{base}/").json()["start_problems"] == problems

    Dataset.objects.filter(pk=north.pk).update(archived=False)
    CampaignSettings.objects.filter(pk=north.campaign_settings_id).update(sending_hours_start="09:00")
    assert as_owner.post(f"{base}/pause/").status_code == 409  # not running
    assert as_owner.post(f"{base}/start/").json()["campaign_status"] == "active"
    paused = as_owner.post(f"{base}/pause/", {"reason": "checking wording"})
    assert paused.json()["campaign_paused_reason"].endswith(": checking wording")
    assert as_owner.post(f"{base}/resume/").json()["campaign_status"] == "active"
    assert as_owner.post(f"{base}/complete/").json()["campaign_status"] == "completed"
    assert as_owner.post(f"{base}/resume/").status_code == 409


def test_the_inbox_lists_conversations_that_need_a_person(world, as_owner):
    from django.utils import timezone

    from tests.campaigns.helpers import text_received

    text_received(world.south_lead.phone_number, "Yes please call me", at=timezone.now())
    rows = as_owner.get("/api/inbox/?kind=unread").json()["results"]
    assert [row["lead"] for row in rows] == [str(world.south_lead.pk)]
    assert rows[0]["unread"] == 1
    assert as_owner.post(f"/api/conversations/{rows[0]['id']}/read/").json() == {"marked_read": 1}
    assert as_owner.get("/api/inbox/?kind=unread").json()["results"] == []


def test_notifications_are_marked_read(world, owner, alpha, as_owner):
    Notification.objects.create(user=owner, client=alpha, kind="booked", title="Call booked")
    one = as_owner.post(f"/api/notifications/{world.notification.pk}/read/").json()
    assert one["read_at"] is not None
    assert as_owner.get("/api/notifications/?unread=true").json()["results"][0]["title"] == "Call booked"
    assert as_owner.post("/api/notifications/read-all/").json() == {"marked_read": 1}


def test_tokens_are_made_shown_once_listed_and_revoked(world, owner, rep, as_owner, as_rep):
    made = as_rep.post("/api/api-tokens/", {"name": "Reports"})
    assert made.status_code == 201
    key = made.json()["key"]
    token = ApiToken.objects.get(pk=made.json()["id"])
    assert key not in (token.key_hash, token.prefix) and len(token.key_hash) == 64 and key.startswith(token.prefix)
    assert "key" not in as_rep.get(f"/api/api-tokens/{token.pk}/").json()
    assert Api(key).get("/api/datasets/").status_code == 200
    # The rep sees only her own tokens; the owner (an admin) sees and may revoke everyone's.
    assert {row["user"] for row in as_rep.get("/api/api-tokens/").json()["results"]} == {rep.email}
    assert {row["user"] for row in as_owner.get("/api/api-tokens/").json()["results"]} == {rep.email, owner.email}
    owners_token = ApiToken.objects.filter(user=owner).first()
    assert as_rep.delete(f"/api/api-tokens/{owners_token.pk}/").status_code == 404
    assert as_owner.delete(f"/api/api-tokens/{token.pk}/").status_code == 204
    assert Api(key).get("/api/datasets/").status_code == 401
    assert as_owner.post("/api/api-tokens/", {"name": "  "}).status_code == 400


def test_a_token_made_in_settings_works_on_its_own_host_only(world, owner, outsider, client):
    client.force_login(owner)
    page = client.post("/settings/api-tokens/", {"name": "n8n"}, HTTP_HOST="alpha.localhost")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    html = page.content.decode()
    key = html.split('id="new-token-key"')[1].split(">", 1)[1].split("<", 1)[0]
    assert Api(key).get("/api/leads/").status_code == 200
    assert Api(key, host="beta.localhost").get("/api/leads/").status_code == 403
    again = client.get("/settings/api-tokens/", HTTP_HOST="alpha.localhost").content.decode()
    assert key not in again and "n8n" in again  # shown once
    token = ApiToken.objects.get(name="n8n")
    client.post("/settings/api-tokens/", {"revoke": str(token.pk)}, HTTP_HOST="alpha.localhost")
    assert Api(key).get("/api/leads/").status_code == 401


def test_the_settings_page_lists_only_what_the_user_may_see(world, owner, rep, client):
    token_for(owner)
    token_for(rep)
    client.force_login(rep)
    page = client.get("/settings/api-tokens/", HTTP_HOST="alpha.localhost").content.decode()
    assert rep.email not in page or "Person" not in page
    assert page.count('name="revoke"') == 1
    owners = ApiToken.objects.get(user=owner)
    client.post("/settings/api-tokens/", {"revoke": str(owners.pk)}, HTTP_HOST="alpha.localhost")
    assert ApiToken.objects.get(pk=owners.pk).revoked_at is None
    assert client.post("/settings/api-tokens/", {"name": ""}, HTTP_HOST="alpha.localhost").status_code == 400


def test_bulk_actions_cover_ticked_ids_or_every_lead_matching_the_filters(world, owner, as_owner, as_rep):
    north = str(world.north.pk)
    archived = as_owner.post("/api/leads/bulk/", {"action": "archive", "filters": {"dataset": north}})
    assert archived.json() == {"action": "archive", "count": 3, "changed": 3}
    assert Lead.objects.filter(dataset=world.north, archived=True).count() == 3
    assert not Lead.objects.get(pk=world.south_lead.pk).archived

    ticked = as_owner.post(
        "/api/leads/bulk/", {"action": "assign", "ids": [str(world.south_lead.pk)], "assignee": str(owner.pk)}
    )
    assert ticked.status_code == 200 and ticked.json()["changed"] == 1
    assert Lead.objects.get(pk=world.south_lead.pk).assigned_to_id == owner.pk

    # The rep may set manual mode (lead work) but not archive, and her filters never reach the South dataset.
    assert as_rep.post("/api/leads/bulk/", {"action": "archive"}).status_code == 403
    mine = as_rep.post("/api/leads/bulk/", {"action": "manual_on", "ids": [str(world.south_lead.pk)]})
    assert mine.json()["count"] == 0
    bad = [
        as_owner.post("/api/leads/bulk/", {"action": "explode"}),
        as_owner.post("/api/leads/bulk/", {"action": "archive", "filters": {"colour": "red"}}),
        as_owner.post("/api/leads/bulk/", {"action": "archive", "filters": {"status": "SHOUTING"}}),
        as_owner.post("/api/leads/bulk/", {"action": "archive", "ids": []}),
        as_owner.post("/api/leads/bulk/", {"action": "assign", "ids": [north], "assignee": north}),
    ]
    assert [r.status_code for r in bad] == [400] * 5
    assert as_owner.get("/api/leads/bulk/nothex/").status_code == 400
    assert as_owner.get(f"/api/leads/bulk/{'0' * 32}/").status_code == 404


def test_a_big_bulk_action_becomes_a_job_with_progress(world, as_owner, monkeypatch):
    from leads import bulk

    monkeypatch.setattr(bulk, "INLINE_MAX", 2)
    queued = as_owner.post("/api/leads/bulk/", {"action": "manual_on"})
    assert queued.status_code == 202
    status = as_owner.get(queued.json()["status_url"]).json()
    assert (status["phase"], status["total"]) == ("queued", Lead.objects.count())
