"""Lessons and insights over the API and in the admin: the same services, the same role rules."""

import pytest

from clients.api_tokens import api_token_create
from sophie.insights.messages import message_quality_check
from sophie.lessons import lesson_create
from sophie.models import Insight, Lesson
from tests.sophie.learning import ai_text, learning_lead
from tests.sophie.test_insights import LATER
from tests.sophie.test_lessons import PRICE

HOST = {"HTTP_HOST": "alpha.localhost"}


def _api(client, user):
    token = api_token_create(user=user, name="test")
    return {**HOST, "HTTP_AUTHORIZATION": f"Token {token.key}"}


def test_it_creates_lists_updates_and_archives_lessons(owner, client):
    auth = _api(client, owner)

    made = client.post("/api/lessons/", {**PRICE, "tags": ["price"]}, content_type="application/json", **auth)
    pk = made.json()["id"]
    listed = client.get("/api/lessons/", {"q": "expensive"}, **auth).json()
    patched = client.patch(f"/api/lessons/{pk}/", {"priority": 7}, content_type="application/json", **auth)
    archived = client.post(f"/api/lessons/{pk}/archive/", **auth)
    again = client.post(f"/api/lessons/{pk}/archive/", **auth)

    assert made.status_code == 201 and made.json()["times_applied"] == 0
    results = listed["results"] if isinstance(listed, dict) else listed
    assert [row["title"] for row in results] == ["Too expensive"]
    assert patched.json()["priority"] == 7 and patched.json()["title"] == "Too expensive"
    assert archived.json()["status"] == "archived" and again.status_code == 400
    assert "already archived" in again.json()["error"]["message"]


def test_bad_input_gets_a_clear_400(owner, client):
    auth = _api(client, owner)

    empty = client.post("/api/lessons/", {**PRICE, "title": ""}, content_type="application/json", **auth)
    spaces = client.post(
        "/api/lessons/", {"lesson_type": "blacklist_word", "title": "   "}, content_type="application/json", **auth
    )
    a_list = client.post("/api/lessons/", [1, 2], content_type="application/json", **auth)

    assert empty.status_code == 400 and empty.json()["error"]["message"] == "A lesson needs a title."
    assert spaces.status_code == 400 and "only spaces" in spaces.json()["error"]["message"]
    assert a_list.status_code == 400


def test_a_rep_reads_but_cannot_write(owner, teammate, client):
    lesson = lesson_create(actor=owner, fields=PRICE)
    auth = _api(client, teammate)

    assert client.get(f"/api/lessons/{lesson.pk}/", **auth).status_code == 200
    assert client.post("/api/lessons/", PRICE, content_type="application/json", **auth).status_code == 403
    assert client.post(f"/api/lessons/{lesson.pk}/archive/", **auth).status_code == 403


@pytest.fixture
def insight(alpha, django_capture_on_commit_callbacks) -> Insight:
    message = ai_text(learning_lead(), django_capture_on_commit_callbacks, says="yes", text="Don't miss out, book now!")
    message_quality_check(message_id=message.pk, at=LATER)
    return Insight.objects.get(finding_key=f"pushy:{message.pk}")


def test_the_review_queue_over_the_api(insight, owner, client):
    auth = _api(client, owner)

    listed = client.get("/api/insights/", {"category": "tone"}, **auth).json()
    approved = client.post(f"/api/insights/{insight.pk}/approve/", {}, content_type="application/json", **auth)
    twice = client.post(f"/api/insights/{insight.pk}/approve/", {}, content_type="application/json", **auth)

    results = listed["results"] if isinstance(listed, dict) else listed
    assert str(insight.pk) in [row["id"] for row in results]
    assert approved.status_code == 200 and approved.json()["status"] == "approved_and_learned"
    assert twice.status_code == 409 and "already reviewed" in twice.json()["error"]["message"]
    assert Lesson.objects.filter(source="sophie_suggestion").count() == 1


def test_teach_with_nothing_written_is_a_400(insight, owner, client):
    auth = _api(client, owner)

    response = client.post(
        f"/api/insights/{insight.pk}/teach/", {"should_have_said": ""}, content_type="application/json", **auth
    )

    assert response.status_code == 400 and "should have said" in response.json()["error"]["message"]


def test_the_admin_saves_through_the_service_and_refuses_a_blank_word(owner, client):
    client.force_login(owner)

    blank = client.post(
        "/admin/sophie/lesson/add/",
        {"lesson_type": "blacklist_word", "title": "   ", "priority": 0, "status": "active"},
        **HOST,
    )
    made = client.post(
        "/admin/sophie/lesson/add/",
        {"lesson_type": "blacklist_word", "title": "bargain", "tags": "Tone", "priority": 0, "status": "active"},
        **HOST,
    )

    assert blank.status_code == 200 and not Lesson.objects.filter(title="").exists()
    assert made.status_code == 302
    lesson = Lesson.objects.get(title="bargain")
    assert lesson.created_by == owner and lesson.source == "user_taught"


def test_the_admin_actions_call_the_review_services(insight, owner, client):
    client.force_login(owner)

    client.post("/admin/sophie/insight/", {"action": "dismiss", "_selected_action": [str(insight.pk)]}, **HOST)

    insight.refresh_from_db()
    assert insight.status == "dismissed" and insight.reviewed_by == owner
