"""The simulator loop in a browser: a lead texts STOP from its phone; the lead is REMOVED, the number suppressed."""

import re

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from clients.models import User
from leads.models import Lead
from tests.campaigns.helpers import campaign_dataset
from tests.campaigns.test_simulator import texted
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def simulator_site(live_url, tenants, settings):
    """The simulator backend; signed URLs carry the server thread's port, as the launcher sets it."""
    base = live_url("alpha")
    settings.DBR_SMS_BACKEND, settings.TWILIO_AUTH_TOKEN = "simulator", None
    settings.DBR_PUBLIC_PORT = int(base.rsplit(":", 1)[1])
    alpha = tenants["alpha"]
    with schema_context("public"):
        User.objects.create_user(
            "owner@alpha.example", PASSWORD, client=alpha, role="company_owner", first_name="Olive"
        )
    connection.set_tenant(alpha)
    lead = campaign_dataset(name="Solar 2024", leads=1).leads.get()
    Lead.objects.filter(pk=lead.pk).update(first_name="Gareth", last_name="Evans", contact_status="CONTACTED_1")
    texted(
        lead,
        "Hi Gareth, it's Sophie from Alpha Solar Ltd. Still thinking about solar? Reply STOP to opt out",
        minutes_ago=60,
    )
    return base, lead


def _sign_in(page, base):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def test_stop_from_the_simulator_removes_the_lead_and_suppresses_the_number(simulator_site, page):
    base, lead = simulator_site
    _sign_in(page, base)

    page.get_by_role("link", name="Simulator").click()
    expect(page.get_by_role("heading", name="Lead simulator")).to_be_visible()
    page.get_by_role("link", name=re.compile("Gareth Evans")).click()
    phone = page.get_by_role("log", name="Texts")
    expect(phone).to_contain_text("Still thinking about solar?")

    page.get_by_label("Reply as the lead").fill("STOP")
    page.get_by_role("button", name="Send").click()

    expect(phone.locator(".sms.mine")).to_have_text(re.compile("STOP"))  # the poll brings the stored text back
    expect(page.get_by_label("Reply as the lead")).to_have_value("")
    page.get_by_role("link", name="Open the lead page").click()
    expect(page.get_by_role("heading", name=re.compile("Gareth Evans"))).to_contain_text("Removed")
    page.goto(f"{base}/suppressions/")
    expect(page.get_by_role("cell", name=lead.phone_number, exact=True)).to_be_visible()


def test_the_phone_fits_a_phone_screen(simulator_site, page):
    base, lead = simulator_site
    page.set_viewport_size({"width": 375, "height": 740})
    _sign_in(page, base)

    page.goto(f"{base}/simulator/{lead.pk}/")

    send = page.get_by_role("button", name="Send")
    expect(send).to_be_visible()
    box, width = send.bounding_box(), page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 and box["x"] + box["width"] <= 375  # nothing spills sideways
