"""The inbox in a real browser: a new text appears without a reload, the reply box counts as you type, a reply
sends from the inbox, and the page works at phone width."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from campaigns.models import Message
from clients.models import User
from leads.models import CampaignSettings, Lead
from tests.campaigns.helpers import campaign_dataset, text_received
from tests.conftest import PASSWORD
from tests.e2e.test_dashboard_browser import _sign_in

pytestmark = pytest.mark.slow


def _noon_zone() -> str:
    """A time zone where it is about noon now, so no reply is held by quiet hours whenever the test runs."""
    offset = 12 - datetime.now(UTC).hour
    return f"Etc/GMT{'-' if offset >= 0 else '+'}{abs(offset)}"


def _lead_texts(lead: Lead, body: str) -> None:
    text_received(lead.phone_number, body, at=timezone.now())


@pytest.fixture
def replies(tenants):
    alpha = tenants["alpha"]
    with schema_context("public"):
        User.objects.create_user(
            "owner@alpha.example", PASSWORD, client=alpha, role="company_owner", first_name="Olive", last_name="Owner"
        )
    with schema_context(alpha.schema_name):
        dataset = campaign_dataset(name="Solar 2024", leads=2)
        CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(sending_timezone=_noon_zone())
        first, second = dataset.leads.order_by("phone_number")
        Lead.objects.filter(pk=first.pk).update(first_name="Gareth", last_name="Evans")
        Lead.objects.filter(pk=second.pk).update(first_name="Priya", last_name="Shah")
        _lead_texts(first, "Yes still interested, how much for a 3 bed semi?")
    return {"alpha": alpha, "first": first, "second": second}


def test_a_new_text_appears_and_is_answered_from_the_inbox(live_url, page, replies):
    base = live_url("alpha")
    _sign_in(page, base, "owner@alpha.example")
    expect(page.locator("#inbox-unread")).to_have_text(", unread texts: 1")

    page.get_by_role("link", name="Inbox").click()
    expect(page.locator("#inbox-list")).to_contain_text("how much for a 3 bed semi?")
    expect(page.locator("#inbox-list")).not_to_contain_text("Priya")
    with schema_context(replies["alpha"].schema_name):
        _lead_texts(replies["second"], "Who is this? 🤔")
    expect(page.locator("#inbox-list")).to_contain_text("Who is this? 🤔", timeout=15_000)  # the 10 s poll
    expect(page.locator("#inbox-unread")).to_have_text(", unread texts: 2")

    page.locator(".inbox-entry", has_text="Gareth").get_by_role("link", name="Read and reply").click()
    panel = page.locator("#inbox-conversation")
    expect(panel).to_contain_text("how much for a 3 bed semi?")
    expect(page.locator("#inbox-unread")).to_have_text(", unread texts: 1")  # read for the team
    panel.get_by_label("Reply to Gareth").fill("About £6k fitted 😊")
    expect(panel.locator("#reply-counter .encoding")).to_have_text("UCS-2")
    expect(panel.locator("#reply-counter .characters")).to_have_text("19")
    panel.get_by_role("button", name="Send reply").click()

    expect(panel).to_contain_text("Reply queued: it is on its way.")
    with schema_context(replies["alpha"].schema_name):
        message = Message.objects.get(direction="outbound", sent_by__isnull=False)
        assert (message.content, message.sent_by.email) == ("About £6k fitted 😊", "owner@alpha.example")
        assert Lead.objects.get(pk=replies["first"].pk).manual_mode


def test_the_inbox_fits_a_phone(live_url, page, replies):
    page.set_viewport_size({"width": 375, "height": 740})
    base = live_url("alpha")
    _sign_in(page, base, "owner@alpha.example")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{base}/inbox/")

    expect(page.locator("#inbox-list")).to_contain_text("how much for a 3 bed semi?")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.get_by_role("link", name="Read and reply").click()
    expect(page.get_by_label("Reply to Gareth")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
