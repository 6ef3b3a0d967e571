"""Sophie › Insights through the test client: filters, approve and learn, teach, dismiss, roles, isolation."""

import pytest

from campaigns.models import Message
from clients.models import User
from sophie.insights.messages import message_quality_check
from sophie.models import Insight, Lesson
from tests.sophie.learning import ai_text, learning_lead
from tests.sophie.test_insights import LATER

HOST = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def insight(alpha, django_capture_on_commit_callbacks) -> Insight:
    lead = learning_lead()
    message = ai_text(lead, django_capture_on_commit_callbacks, says="yes", text="Don't miss out, book now!")
    message_quality_check(message_id=message.pk, at=LATER)
    return Insight.objects.get(finding_key=f"pushy:{message.pk}")


def test_the_queue_lists_and_filters(insight, owner, client):
    client.force_login(owner)

    page = client.get("/sophie/insights/", **HOST).content.decode()
    compliance = client.get("/sophie/insights/", {"category": "compliance"}, HTTP_HX_REQUEST="true", **HOST)

    assert "Sophie sounded pushy" in page
    assert "Sophie sounded pushy" not in compliance.content.decode()


def test_opening_an_insight_marks_it_viewed(insight, owner, client):
    client.force_login(owner)

    page = client.get(f"/sophie/insights/{insight.pk}/", **HOST).content.decode()

    insight.refresh_from_db()
    assert insight.status == "viewed" and "Teach Sophie" in page and "Approve and learn" in page


def test_approve_and_learn_then_approve_again(insight, owner, client):
    client.force_login(owner)
    form = client.get(f"/sophie/insights/{insight.pk}/", **HOST).context["lesson_form"].initial

    first = client.post(f"/sophie/insights/{insight.pk}/approve/", {**form, "tags": "tone"}, **HOST)
    second = client.post(f"/sophie/insights/{insight.pk}/approve/", {**form, "tags": "tone"}, **HOST)

    insight.refresh_from_db()
    assert first.status_code == 302 and insight.status == "approved_and_learned"
    assert second.status_code == 302 and "already reviewed" in client.get(second["Location"], **HOST).content.decode()
    assert Lesson.objects.filter(source="sophie_suggestion").count() == 1


def test_teach_sophie_from_the_page(insight, owner, client):
    client.force_login(owner)

    client.post(f"/sophie/insights/{insight.pk}/teach/", {"should_have_said": "Whenever suits you."}, **HOST)

    insight.refresh_from_db()
    assert insight.status == "taught_sophie" and insight.related_lesson.correct_response == "Whenever suits you."
    assert Message.objects.get(pk=insight.message_id).ai_feedback_status == "improved"


def test_dismiss_keeps_the_reason(insight, owner, client):
    client.force_login(owner)

    client.post(f"/sophie/insights/{insight.pk}/dismiss/", {"feedback": "fine for this lead"}, **HOST)

    insight.refresh_from_db()
    assert (
        insight.status == "dismissed" and insight.user_feedback == "fine for this lead" and insight.reviewed_by == owner
    )


def test_readers_cannot_review(insight, alpha, make_user, client):
    reader = make_user(alpha, "reader@alpha.example", User.Role.READ_ONLY)
    client.force_login(reader)

    assert (
        "Only people allowed to edit lessons" in client.get(f"/sophie/insights/{insight.pk}/", **HOST).content.decode()
    )
    for action in ("approve", "teach", "dismiss"):
        assert (
            client.post(f"/sophie/insights/{insight.pk}/{action}/", {"should_have_said": "x"}, **HOST).status_code
            == 403
        )
    insight.refresh_from_db()
    assert insight.status in Insight.OPEN


def test_a_rep_sees_only_insights_about_their_leads(insight, teammate, client):
    client.force_login(teammate)  # the lead is not assigned to them

    assert "Sophie sounded pushy" not in client.get("/sophie/insights/", **HOST).content.decode()
    assert client.get(f"/sophie/insights/{insight.pk}/", **HOST).status_code == 404


def test_outsiders_see_nothing(insight, outsider, client):
    client.force_login(outsider)

    for path in ("/sophie/insights/", f"/sophie/insights/{insight.pk}/"):
        response = client.get(path, **HOST)
        assert response.status_code in (302, 403, 404) and "pushy" not in response.content.decode()
    assert client.post(f"/sophie/insights/{insight.pk}/dismiss/", **HOST).status_code in (302, 403, 404)
    insight.refresh_from_db()
    assert insight.status == "pending"
