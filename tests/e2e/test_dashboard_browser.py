"""The dashboard shell in a real browser: login, navigation, HTMX filtering, phone width, keyboard."""

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from clients.models import User
from leads.models import Lead
from leads.services import dataset_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def greenstar_like(tenants):
    alpha = tenants["alpha"]
    with schema_context("public"):
        owner = User.objects.create_user(
            "owner@alpha.example", PASSWORD, client=alpha, role="company_owner", first_name="Olive", last_name="Owner"
        )
    with schema_context(alpha.schema_name):
        dataset = dataset_create(name="Solar 2024")
        Lead.objects.bulk_create(
            [
                Lead(
                    dataset=dataset,
                    first_name="Gareth",
                    last_name="Evans",
                    phone_number="+447700900101",
                    contact_status="HOT",
                    latest_lead_reply="Yes still interested",
                ),
                Lead(dataset=dataset, first_name="Priya", last_name="Shah", phone_number="+447700900102"),
            ]
        )
    return owner


def _sign_in(page, base, email):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")  # the whole flow works from the keyboard


def test_it_signs_in_and_filters_leads_with_htmx(live_url, page, greenstar_like):
    base = live_url("alpha")
    _sign_in(page, base, "owner@alpha.example")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("link", name="Solar 2024")).to_be_visible()

    page.get_by_role("link", name="Leads").click()
    expect(page.get_by_text("2 leads")).to_be_visible()
    page.get_by_label("Search").fill("Gareth")

    expect(page.get_by_text("1 lead", exact=True)).to_be_visible()
    expect(page.locator("#lead-table")).not_to_contain_text("Priya")
    assert "q=Gareth" in page.url  # hx-push-url keeps the filter linkable


def test_next_and_previous_pages_swap_the_table_in_place_and_keep_the_url(live_url, page, greenstar_like):
    base = live_url("alpha")
    _sign_in(page, base, "owner@alpha.example")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{base}/leads/?limit=1&sort=first_name")
    table = page.locator("#lead-table")
    expect(table).to_contain_text("Gareth")
    expect(page.get_by_role("link", name="Previous page")).to_have_count(0)

    page.get_by_role("link", name="Next page").click()
    expect(table).to_contain_text("Priya")
    expect(table).not_to_contain_text("Gareth")
    assert "after=" in page.url

    page.get_by_role("link", name="Previous page").click()
    expect(table).to_contain_text("Gareth")
    expect(table).not_to_contain_text("Priya")
    assert "before=" in page.url  # the page reached backwards is linkable too
    expect(page.get_by_role("link", name="Next page")).to_be_visible()


def test_it_shows_a_clear_error_for_a_wrong_password(live_url, page, greenstar_like):
    base = live_url("alpha")
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill("nope")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("don't match an account")


def test_the_navigation_folds_into_a_menu_at_phone_width(live_url, page, greenstar_like):
    page.set_viewport_size({"width": 375, "height": 740})
    base = live_url("alpha")
    _sign_in(page, base, "owner@alpha.example")
    nav = page.locator("#nav")
    expect(nav).to_be_hidden()

    page.get_by_role("button", name="Menu").click()

    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Datasets")).to_be_visible()


def test_it_applies_the_clients_brand_colour(live_url, page, greenstar_like):
    with schema_context("public"):
        from clients.models import Client

        Client.objects.filter(slug="alpha").update(primary_color="#ff6600")
    try:
        _sign_in(page, live_url("alpha"), "owner@alpha.example")
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        colour = page.evaluate("getComputedStyle(document.querySelector('.topbar')).borderBottomColor")
        assert colour == "rgb(255, 102, 0)"
    finally:
        with schema_context("public"):
            Client.objects.filter(slug="alpha").update(primary_color="#8cc63f")
