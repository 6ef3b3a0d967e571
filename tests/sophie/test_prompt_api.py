"""The prompts API (sophie/api.py): versions listed and read, drafts made, go-live and rollback through the
same services as the pages, refusals as 400 with the message, readers refused, other clients see nothing."""

from datetime import UTC, datetime

import pytest

from clients.models import User
from sophie.models import Lesson, Prompt
from sophie.prompts import prompt_default_create, prompt_sections_save

HOST = {"HTTP_HOST": "alpha.localhost"}
AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def default(alpha) -> Prompt:
    Prompt.objects.all().delete()
    return prompt_default_create(at=AT)


def test_it_lists_and_reads_versions_with_their_history_and_figures(default, owner, client):
    client.force_login(owner)

    listing = client.get("/api/prompts/?dataset=default", **HOST).json()
    one = client.get(f"/api/prompts/{default.pk}/", **HOST).json()
    history = client.get(f"/api/prompts/{default.pk}/versions/", **HOST).json()
    figures = client.get(f"/api/prompts/{default.pk}/performance/", **HOST).json()

    assert [row["id"] for row in listing["results"]] == [str(default.pk)]
    assert one["is_live"] and one["version"] == "1.0"
    assert history[0]["changes"]["type"] == "created_from_template"
    assert figures["conversations"] == 0 and figures["reply_rate"]["n"] == 0
    assert client.get("/api/prompts/?dataset=nope", **HOST).status_code == 400
    assert client.get("/api/prompts/?status=weird", **HOST).status_code == 400


def test_a_draft_then_go_live_then_rollback(default, owner, client):
    client.force_login(owner)

    made = client.post(
        f"/api/prompts/{default.pk}/drafts/",
        {"sections": {"tone": "Short and kind."}, "why": "API edit"},
        content_type="application/json",
        **HOST,
    )
    draft = made.json()
    live = client.post(
        f"/api/prompts/{draft['id']}/go-live/", {"replacing": str(default.pk)}, content_type="application/json", **HOST
    )
    back = client.post(
        f"/api/prompts/{default.pk}/rollback/", {"reason": "worse"}, content_type="application/json", **HOST
    )

    assert made.status_code == 201 and draft["status"] == "draft"
    assert draft["prompt_structure"]["tone"]["source"] == "staff_edit"
    assert live.status_code == 200 and live.json()["is_live"]
    assert back.status_code == 200 and back.json()["id"] == str(default.pk)


def test_refusals_are_400_with_the_reason(default, owner, client):
    client.force_login(owner)
    first = prompt_sections_save(base=default, contents={"tone": "1"}, why="", actor=owner, at=AT)
    second = prompt_sections_save(base=default, contents={"tone": "2"}, why="", actor=owner, at=AT)
    archived = Lesson.objects.create(lesson_type="never_rule", title="Gone", status=Lesson.Status.ARCHIVED)
    client.post(
        f"/api/prompts/{first.pk}/go-live/", {"replacing": str(default.pk)}, content_type="application/json", **HOST
    )

    stale = client.post(
        f"/api/prompts/{second.pk}/go-live/", {"replacing": str(default.pk)}, content_type="application/json", **HOST
    )
    long = client.post(
        f"/api/prompts/{default.pk}/drafts/",
        {"sections": {"knowledge": "x" * 50_000}},
        content_type="application/json",
        **HOST,
    )
    unknown = client.post(
        f"/api/prompts/{default.pk}/drafts/", {"sections": {"nonsense": "x"}}, content_type="application/json", **HOST
    )
    lesson = client.post(
        f"/api/prompts/{default.pk}/apply-lesson/",
        {"lesson": str(archived.pk)},
        content_type="application/json",
        **HOST,
    )
    bad_id = client.post(
        f"/api/prompts/{default.pk}/apply-lesson/", {"lesson": "x"}, content_type="application/json", **HOST
    )

    assert stale.status_code == 400 and "Someone else changed the live version" in stale.json()["error"]["message"]
    assert long.status_code == 400 and "at most" in long.json()["error"]["message"]
    assert (
        unknown.status_code == 400 and "Unknown sections: nonsense" in unknown.json()["error"]["fields"]["sections"][0]
    )
    assert lesson.status_code == 400 and "archived" in lesson.json()["error"]["message"]
    assert bad_id.status_code == 400
    assert Prompt.objects.count() == 3


def test_a_reader_may_read_but_not_write_and_an_outsider_sees_nothing(default, alpha, make_user, outsider, client):
    reader = make_user(alpha, "reader@alpha.example", User.Role.READ_ONLY)
    client.force_login(reader)
    assert client.get(f"/api/prompts/{default.pk}/", **HOST).status_code == 200
    refused = client.post(
        f"/api/prompts/{default.pk}/drafts/", {"sections": {"tone": "x"}}, content_type="application/json", **HOST
    )
    assert refused.status_code == 403 and Prompt.objects.count() == 1

    client.force_login(outsider)
    assert client.get(f"/api/prompts/{default.pk}/", **HOST).status_code in (403, 404)
