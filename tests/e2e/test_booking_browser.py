"""The demo's booking in a browser: the lead page's test booking books the call through the real webhook."""

import re

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from clients.models import User
from leads.models import Lead
from tests.campaigns.helpers import campaign_dataset
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def booking_site(live_url, tenants, settings):
    base = live_url("alpha")
    settings.DBR_SMS_BACKEND = "simulator"
    settings.DBR_PUBLIC_PORT = int(base.rsplit(":", 1)[1])
    with schema_context("public"):
        User.objects.create_user(
            "owner@alpha.example", PASSWORD, client=tenants["alpha"], role="company_owner", first_name="Olive"
        )
    connection.set_tenant(tenants["alpha"])
    lead = campaign_dataset(name="Solar 2024", leads=1, cal_booking_link="https://cal.com/alpha/survey").leads.get()
    Lead.objects.filter(pk=lead.pk).update(first_name="Gareth", last_name="Evans", contact_status="HOT")
    return base, lead


def test_the_test_booking_makes_the_lead_call_booked(booking_site, page):
    base, lead = booking_site
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    page.goto(f"{base}/leads/{lead.pk}/")
    expect(page.get_by_role("heading", name=re.compile("Gareth Evans"))).to_contain_text("Hot")
    page.get_by_role("button", name="Send a test booking").click()

    expect(page.get_by_role("heading", name=re.compile("Gareth Evans"))).to_contain_text("Call booked")
    expect(page.locator("#call-booked")).to_contain_text("Cal.com booking")
    expect(page.locator(".timeline")).to_contain_text("Call booked")
