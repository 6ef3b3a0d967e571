"""The pages a new user meets in the first hour, at phone (390 px) and desktop (1280 px) width."""

import os

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from campaigns.models import Conversation, Message
from clients.models import User
from leads.models import Dataset, Lead, Suppression
from leads.services import dataset_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
SHOTS = os.environ.get("DBR_SCREENSHOTS")  # a folder: each page is saved there too, to look at


@pytest.fixture
def first_hour(tenants):
    alpha = tenants["alpha"]
    with schema_context("public"):
        User.objects.create_user(
            "owner@alpha.example", PASSWORD, client=alpha, role="company_owner", first_name="Olive", last_name="Owner"
        )
    with schema_context(alpha.schema_name):
        dataset = dataset_create(name="Solar enquiries from the spring 2024 home shows")
        lead = Lead.objects.create(dataset=dataset, first_name="Gareth", phone_number="+447700900101")
        Dataset.objects.filter(pk=dataset.pk).update(
            campaign_status="paused",
            campaign_paused_reason="Paused by Olive Owner: the team is calling the hot leads before M2 goes out",
        )
        conversation = Conversation.objects.create(lead=lead, dataset=dataset)
        for status in ["unknown", "sent", "delivered", "undelivered", "failed", "pending", "received"]:
            Message.objects.create(
                conversation=conversation,
                lead=lead,
                content="Hi",
                direction="inbound" if status == "received" else "outbound",
                status=status,
            )
        Suppression.objects.create(
            phone_number="+447700900555", source="opt_out", reason="Replied STOP to the spring campaign's first text"
        )
    return dataset


def _sign_in(page, base):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}-top.png"))


def _overflow(page) -> list[str]:
    """Elements whose right edge is past the viewport (the page scrolls sideways), outside scrolling tables."""
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        return [...document.querySelectorAll('main *')]
          .filter(el => !el.closest('.table-wrap') && el.getBoundingClientRect().right > width + 1)
          .map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right));
    }""")


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_first_pages_fit_the_screen(live_url, page, first_hour, size):
    page.set_viewport_size(size)
    base = live_url("alpha")
    _sign_in(page, base)
    dataset = first_hour
    for name, path in [
        ("suppressions", "/suppressions/"),
        ("dataset", f"/datasets/{dataset.pk}/"),
        ("campaign", f"/campaigns/{dataset.pk}/"),
        ("campaigns", "/campaigns/"),
        ("invite", "/settings/users/invite/"),
    ]:
        page.goto(base + path)
        _shot(page, f"{name}-{size['width']}")
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], (name, _overflow(page))
        assert _overflow(page) == [], name

    # The campaigns list's "Next" column is on screen, not scrolled off to the right.
    page.goto(base + "/campaigns/")
    next_cell = page.locator("table.campaigns tbody tr td").last
    assert next_cell.bounding_box()["x"] + next_cell.bounding_box()["width"] <= size["width"]

    # "Messages by status" stays inside its card.
    page.goto(base + f"/campaigns/{dataset.pk}/")
    card = page.locator(".counts .card", has_text="Messages by status").bounding_box()
    table = page.locator(".counts .card", has_text="Messages by status").locator("table").bounding_box()
    if SHOTS:
        page.locator(".counts").screenshot(path=os.path.join(SHOTS, f"counts-{size['width']}.png"))
    assert table["x"] + table["width"] <= card["x"] + card["width"]

    # The dataset page's pause reason does not overlap the buttons below it.
    page.goto(base + f"/datasets/{dataset.pk}/")
    reason = page.locator("#paused-reason").bounding_box()
    buttons = page.get_by_role("link", name="See its leads").bounding_box()
    assert reason["y"] + reason["height"] <= buttons["y"]


def test_the_invite_form_starts_at_the_least_privilege(live_url, page, first_hour):
    page.set_viewport_size(PHONE)
    base = live_url("alpha")
    _sign_in(page, base)
    page.goto(base + "/settings/users/invite/")

    expect(page.get_by_label("Role")).to_have_value("read_only")
    box = page.get_by_label("Can manage users").bounding_box()
    label = page.get_by_text("Can manage users", exact=True).bounding_box()
    assert abs(label["x"] - (box["x"] + box["width"])) < 20  # the label sits next to its box
    expect(page.get_by_text("automation tool")).to_be_visible()

    datasets = page.get_by_label(first_hour.name)
    expect(datasets).to_be_hidden()
    page.get_by_label("Only some datasets").check()
    expect(datasets).to_be_visible()

    page.get_by_label("Email").fill("new@alpha.example")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to new@alpha.example")).to_have_count(1)


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_import_speaks_in_words_and_counts_what_the_import_rejects(live_url, page, first_hour, size, tmp_path):
    messy = tmp_path / "messy.csv"
    messy.write_text(
        "First Name,Surname,Mobile,Email\n"
        "Ann,Lee,07700 900001,ann@example.com\n"
        "Bob,,07700 900002,bob@example.com\n"
        "Cat,Ng,not a phone,cat@example.com\n"
        "Dan,Oh,01632 960001,dan@\n"
    )
    page.set_viewport_size(size)
    base = live_url("alpha")
    _sign_in(page, base)
    page.goto(base + "/datasets/import/")
    page.get_by_label("New dataset name").fill("Messy file")
    page.locator("input[type=file]").set_input_files(str(messy))
    page.get_by_role("button", name="Upload and continue").click()
    page.get_by_role("button", name="Preview").click()

    counts = page.locator("#preview-counts")
    expect(counts).to_contain_text("Of all 4 rows")
    expect(counts).to_contain_text("3 would be rejected")
    text = page.inner_text("main")
    _shot(page, f"preview-{size['width']}")
    assert "first_name" not in text and "phone_number" not in text
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"], _overflow(page)
