"""Settings › API tokens in a real browser: a token is made, its key shown once and it works on the API; the page
fits a phone; revoking it stops it."""

import pytest
from django.test import Client as HttpClient
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from clients.models import User
from tests.conftest import PASSWORD
from tests.e2e.test_dashboard_browser import _sign_in

pytestmark = pytest.mark.slow
SHOTS = "/tmp/dbr-api-tokens"


@pytest.fixture
def owner_alpha(tenants):
    with schema_context("public"):
        return User.objects.create_user(
            "owner@alpha.example", PASSWORD, client=tenants["alpha"], role="company_owner", first_name="Olive"
        )


def _api_status(key: str) -> int:
    return (
        HttpClient().get("/api/datasets/", HTTP_HOST="alpha.localhost", HTTP_AUTHORIZATION=f"Token {key}").status_code
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_a_token_is_made_shown_once_and_revoked(live_url, page, owner_alpha, width):
    page.set_viewport_size({"width": width, "height": 800})
    base = live_url("alpha")
    _sign_in(page, base, "owner@alpha.example")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{base}/settings/api-tokens/")
    page.get_by_label("Name").fill("HubSpot sync")
    page.get_by_role("button", name="Make token").click()

    key = page.locator("#new-token-key").inner_text().strip()
    assert len(key) == 40 and _api_status(key) == 200
    expect(page.locator("#api-tokens")).to_contain_text("HubSpot sync")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=f"{SHOTS}-{width}.png", full_page=True)

    page.goto(f"{base}/settings/api-tokens/")
    expect(page.locator("#new-token-key")).to_have_count(0)  # shown once
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Token “HubSpot sync” revoked")).to_be_visible()
    assert _api_status(key) == 401


def test_swagger_ui_and_redoc_render_from_our_own_static_files(live_url, page, owner_alpha):
    fetched = []
    page.on("response", lambda response: fetched.append(response.url))
    base = live_url("alpha")
    _sign_in(page, base, "owner@alpha.example")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{base}/api/docs/")
    expect(page.get_by_text("DBR API").first).to_be_visible(timeout=20000)
    expect(page.get_by_text("/api/leads/").first).to_be_visible()
    page.screenshot(path=f"{SHOTS}-swagger.png")
    page.goto(f"{base}/api/redoc/")
    expect(page.get_by_text("DBR API").first).to_be_visible(timeout=20000)
    page.screenshot(path=f"{SHOTS}-redoc.png")
    # What was fetched (a response came back): only our own host; Redoc's logo on redoc.ly is blocked (CSP).
    elsewhere = [url for url in fetched if not url.startswith((base, "blob:", "data:"))]
    assert fetched and not elsewhere, elsewhere
