"""The campaign settings page in a real browser: the live preview follows what staff type."""

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from clients.models import User
from leads.models import Lead
from leads.services import dataset_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def campaign(tenants):
    alpha = tenants["alpha"]
    with schema_context("public"):
        User.objects.create_user(
            "owner@alpha.example", PASSWORD, client=alpha, role="company_owner", first_name="Olive", last_name="Owner"
        )
    with schema_context(alpha.schema_name):
        dataset = dataset_create(name="Solar 2024")
        Lead.objects.create(dataset=dataset, first_name="Gareth", last_name="Evans", phone_number="+447700900101")
    return dataset


def _sign_in(page, base):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")


def test_typing_an_emoji_in_m1_flips_the_preview_to_ucs2_and_raises_the_segments(live_url, page, campaign):
    base = live_url("alpha")
    _sign_in(page, base)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="Solar 2024").click()

    m1 = page.locator("#preview-M1")
    expect(m1.locator(".encoding")).to_have_text("GSM-7")
    expect(m1.locator(".segments")).to_have_text("1")
    expect(m1.locator(".sms-text")).to_contain_text("Hi Gareth, it's Sophie at Alpha Solar Ltd.")

    message = page.get_by_label("M1 (first message)")
    message.press("End")
    message.press_sequentially(" Sunny days ahead ☀️")

    expect(m1.locator(".encoding")).to_have_text("UCS-2")
    expect(m1.locator(".segments")).to_have_text("3")
    expect(m1).to_contain_text("UCS-2 because of ☀")
    expect(m1.locator(".sms-text")).to_contain_text("Sunny days ahead ☀️")
    # the preview is live only: nothing was saved
    page.reload()
    expect(page.locator("#preview-M1 .encoding")).to_have_text("GSM-7")
