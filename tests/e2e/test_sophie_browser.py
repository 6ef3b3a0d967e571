"""The simulator loop with Sophie, in a browser: the lead asks the price, asks whether she is a robot, and asks
for a call; Sophie answers each within the planned delay (0 here), honestly, and the lead turns HOT with the
booking link in the last answer. Tasks run eagerly in the server thread, as a worker would run them."""

import re

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from clients.models import User
from dbr.celery import app
from leads.models import CampaignSettings, Lead
from tests.campaigns.helpers import campaign_dataset
from tests.campaigns.test_simulator import texted
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow
BOOKING_LINK = "https://cal.com/alpha-solar/survey"


@pytest.fixture
def sophie_site(live_url, tenants, settings):
    base = live_url("alpha")
    settings.DBR_SMS_BACKEND, settings.TWILIO_AUTH_TOKEN, settings.DBR_LLM_BACKEND = "simulator", None, "rules"
    settings.DBR_PUBLIC_PORT = int(base.rsplit(":", 1)[1])
    alpha = tenants["alpha"]
    with schema_context("public"):
        User.objects.create_user(
            "owner@alpha.example", PASSWORD, client=alpha, role="company_owner", first_name="Olive"
        )
    connection.set_tenant(alpha)
    dataset = campaign_dataset(
        name="Solar 2024", leads=1, ai_response_delay_seconds=0, ai_multiple_messages_wait_seconds=0,
        cal_booking_link=BOOKING_LINK,
    )  # fmt: skip
    lead = dataset.leads.get()
    Lead.objects.filter(pk=lead.pk).update(first_name="Gareth", last_name="Evans", contact_status="CONTACTED_1")
    texted(lead, "Hi Gareth, it's Sophie at Alpha Solar Ltd. Is solar still on your list? Reply STOP to opt out")
    app.conf.task_always_eager = True
    yield base, lead
    app.conf.task_always_eager = False


def _say(page, text: str) -> None:
    page.get_by_label("Reply as the lead").fill(text)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_label("Reply as the lead")).to_have_value("")


def test_sophie_answers_the_price_the_robot_question_and_the_call_request(sophie_site, page):
    base, lead = sophie_site
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{base}/simulator/{lead.pk}/")
    phone = page.get_by_role("log", name="Texts")
    received = phone.locator(".sms.theirs")
    expect(received).to_have_count(1)

    _say(page, "yes how much is it")
    expect(received).to_have_count(2, timeout=15_000)
    expect(received.nth(1)).to_contain_text(re.compile("call|roof", re.IGNORECASE))

    _say(page, "is this a robot?")
    expect(received).to_have_count(3, timeout=15_000)
    expect(received.nth(2)).to_contain_text("automated assistant")

    _say(page, "can someone ring me tomorrow")
    expect(received).to_have_count(4, timeout=15_000)
    # The lead's own short link to BOOKING_LINK (docs/bookings.md), not the long Cal.com URL.
    expect(received.nth(3)).to_contain_text(re.compile(r"http://alpha\.localhost:\d+/b/[\w-]{8}"))

    page.get_by_role("link", name="Open the lead page").click()
    expect(page.get_by_role("heading", name=re.compile("Gareth Evans"))).to_contain_text("Hot")
    page.screenshot(path="/tmp/sophie-loop-lead-page.png", full_page=True)


def test_a_hot_reply_reaches_the_reps_bell_and_the_call_gets_booked(sophie_site, tenants, page):
    """The hot-lead loop: "yes ring me" in the simulator → HOT and assigned to the rep → the rep's bell →
    the lead page's test booking (the real signed Cal.com webhook) → CALL_BOOKED."""
    base, lead = sophie_site
    with schema_context("public"):
        rep = User.objects.create_user(
            "rep@alpha.example", PASSWORD, client=tenants["alpha"], role="sales_rep", first_name="Ravi"
        )
    connection.set_tenant(tenants["alpha"])
    CampaignSettings.objects.filter(datasets__leads=lead).update(hot_lead_auto_assign=True)

    page.goto(f"{base}/simulator/{lead.pk}/")  # the simulator needs a signed-in owner: sign in first
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("log", name="Texts")).to_be_visible()
    _say(page, "yes ring me")
    expect(page.get_by_role("log", name="Texts").locator(".sms.theirs")).to_have_count(2, timeout=15_000)
    assert Lead.objects.get(pk=lead.pk).assigned_to_id == rep.pk

    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("rep@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name=re.compile(r"Notifications, [12] unread"))).to_be_visible()
    page.get_by_role("link", name=re.compile("Notifications")).click()
    page.get_by_role("button", name=re.compile("Hot lead: Gareth Evans")).click()
    expect(page.get_by_role("heading", name=re.compile("Gareth Evans"))).to_contain_text("Hot")

    page.get_by_role("button", name="Send a test booking").click()

    expect(page.get_by_role("heading", name=re.compile("Gareth Evans"))).to_contain_text("Call booked")
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/hot-loop-phone.png", full_page=True)
