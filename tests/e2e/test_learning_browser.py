"""Teach Sophie from an insight, in a browser: the owner opens Sophie › Insights from the nav, reads what the
check found in a pushy text, writes what Sophie should have said, and finds the new lesson in the library."""

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from campaigns.models import Conversation, Message
from clients.models import User
from sophie.insights.messages import message_quality_check
from sophie.models import AiReply, Lesson
from tests.campaigns.helpers import campaign_dataset
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow
PUSHY = "Don't miss out Gareth, you need to book before it's too late."
BETTER = "No rush at all, Gareth. Would a quick call next week help?"


@pytest.fixture
def learning_site(live_url, tenants):
    base = live_url("alpha")
    alpha = tenants["alpha"]
    with schema_context("public"):
        User.objects.create_user(
            "owner@alpha.example", PASSWORD, client=alpha, role="company_owner", first_name="Olive"
        )
    connection.set_tenant(alpha)
    lead = campaign_dataset(name="Solar 2024", leads=1).leads.get()
    conversation = Conversation.objects.create(lead=lead, dataset=lead.dataset)
    now = timezone.now()
    Message.objects.create(conversation=conversation, lead=lead, content="maybe, not sure", direction="inbound",
                           status="received")  # fmt: skip
    message = Message.objects.create(conversation=conversation, lead=lead, content=PUSHY, direction="outbound",
                                     status="sent", sent_at=now, ai_generated=True, message_type="reply")  # fmt: skip
    AiReply.objects.create(message=message, backend="rules", action="send", original_text=PUSHY, written_at=now)
    message_quality_check(message_id=message.pk, at=now)
    return base


def test_staff_teach_sophie_from_an_insight(learning_site, page):
    base = learning_site
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sophie").click()
    page.get_by_role("navigation", name="Sophie").get_by_role("link", name="Insights").click()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path="/tmp/learning-insights-desktop.png", full_page=True)
    page.get_by_role("link", name="Sophie sounded pushy").click()
    expect(page.get_by_text(PUSHY).first).to_be_visible()
    page.screenshot(path="/tmp/learning-insight-desktop.png", full_page=True)

    page.get_by_label("What Sophie should have said").fill(BETTER)
    page.get_by_role("button", name="Teach Sophie").click()
    expect(page.get_by_role("status").first).to_contain_text("Sophie was taught")
    expect(page.get_by_text("Taught Sophie by Olive")).to_be_visible()

    page.get_by_role("navigation", name="Sophie").get_by_role("link", name="Lessons").click()
    page.get_by_label("Search").fill("pushy")
    expect(page.locator("#lesson-table > p").first).to_have_text("1 lesson")
    expect(page.get_by_role("link", name="Sophie sounded pushy")).to_be_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/learning-lessons-phone.png", full_page=True)
    page.get_by_role("link", name="Sophie sounded pushy").click()
    expect(page.get_by_role("heading", name="How it does")).to_be_visible()
    page.screenshot(path="/tmp/learning-lesson-phone.png", full_page=True)

    with schema_context("alpha"):
        lesson = Lesson.objects.get(title="Sophie sounded pushy")
    assert lesson.lesson_type == "example_good" and lesson.correct_response == BETTER
    assert lesson.incorrect_response == PUSHY and lesson.trigger == "maybe, not sure"
