"""The main flow in a real browser, as a new client lives it: sign in, import a CSV and watch the progress
bar finish, configure and start the campaign, a cadence run, the texts on the lead page, the lead answering
from the simulator, the reply arriving in the open inbox without a reload, taking over and answering by hand,
and the overview. Then every main page at desktop and phone width: no server error, nothing spilling
sideways; with DBR_SCREENSHOTS (scripts/test --screenshots) each is saved as a full-page screenshot."""

import os
import re
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from campaigns.cadence import cadence_run_in_process
from campaigns.outbox.send import message_send
from campaigns.transports.simulator import SimulatorTransport
from clients.models import Client, User
from leads.models import WEEKDAYS, CampaignSettings, Dataset, Lead
from tests.campaigns.helpers import NUMBER, number_register
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
SHOTS = os.environ.get("DBR_SCREENSHOTS")
CSV = "First Name,Surname,Mobile,Email,Postcode\nGareth,Evans,07700 900101,gareth@example.com,CF10 1AA\n" + (
    "Priya,Shah,07700 900102,priya@example.com,LS6 2AB\n"
)


NOW_SENDING = (
    "id",
    "twilio_number",
    "sending_timezone",
    "sending_days",
    "messages_per_minute",
    "messages_per_hour",
    "messages_per_day",
    "ai_mode",
)


def _noon_zone() -> str:
    """A zone where it is about noon now, so the sending window is open whenever the test runs."""
    offset = 12 - datetime.now(UTC).hour
    return f"Etc/GMT{'-' if offset >= 0 else '+'}{abs(offset)}"


@pytest.fixture
def new_client(live_url, tenants, settings):
    """Alpha as a new client: an owner, a registered number, the default template sending now; the simulator
    backend with signed URLs on the live server's port."""
    base = live_url("alpha")
    settings.DBR_SMS_BACKEND, settings.TWILIO_AUTH_TOKEN = "simulator", None
    settings.DBR_PUBLIC_PORT = int(base.rsplit(":", 1)[1])
    alpha = tenants["alpha"]
    with schema_context("public"):
        User.objects.create_user(
            "owner@alpha.example", PASSWORD, client=alpha, role="company_owner", first_name="Olive", last_name="Owner"
        )
    with schema_context(alpha.schema_name):
        number_register(NUMBER)
        templates = CampaignSettings.objects.filter(is_template=True)
        kept = {row["id"]: row for row in templates.values(*NOW_SENDING)}  # templates outlive the test: restored
        templates.update(
            **{
                **dict.fromkeys(("messages_per_minute", "messages_per_hour", "messages_per_day")),
                "twilio_number": NUMBER,
                "sending_timezone": _noon_zone(),
                "sending_days": list(WEEKDAYS),
                "ai_mode": "suggest",
            }
        )  # Sophie only drafts (ai_mode suggest): staff answer by hand in this flow
    yield base, alpha
    with schema_context(alpha.schema_name):
        for pk, row in kept.items():
            CampaignSettings.objects.filter(pk=pk).update(**{k: v for k, v in row.items() if k != "id"})


def _sign_in(page, base):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def _shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _cadence_run(alpha: Client) -> int:
    """One tick as beat would run it, its texts sent by the simulator (never failing here) in this process."""
    now = timezone.now()
    with schema_context(alpha.schema_name):
        run = cadence_run_in_process(at=now, send=False)
        transport = SimulatorTransport(failure_rate=0.0, delay=0.2)
        sent = [message_send(message_id=pk, at=now, transport=transport) for pk in run.tick.to_send(now)]
    return len(sent)


def test_the_main_flow(new_client, page, start_celery_worker, tmp_path):
    base, alpha = new_client
    start_celery_worker(DBR_TEST_SMS_BACKEND="simulator", DBR_PUBLIC_PORT=base.rsplit(":", 1)[1])
    page.set_viewport_size(DESKTOP)
    _sign_in(page, base)

    # Import a CSV through the wizard; the progress bar gives way to the counts.
    leads_csv = tmp_path / "spring-show.csv"
    leads_csv.write_text(CSV)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets").click()
    page.goto(f"{base}/datasets/import/")
    page.get_by_label("New dataset name").fill("Spring show")
    page.locator("input[type=file]").set_input_files(str(leads_csv))
    page.get_by_role("button", name="Upload and continue").click()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-counts")).to_contain_text("Of all 2 rows")
    page.get_by_role("button", name=re.compile(r"^Import (2 )?rows into Spring show")).click()
    status = page.locator("#import-status")
    expect(status.locator(".card", has_text="Created")).to_contain_text("2", timeout=60_000)
    expect(status.locator("progress")).to_have_count(0)
    with schema_context(alpha.schema_name):
        dataset = Dataset.objects.get(name="Spring show")
        gareth = Lead.objects.get(dataset=dataset, first_name="Gareth")

    # Configure the campaign (its first text) and start it.
    page.goto(f"{base}/campaigns/{dataset.pk}/")
    m1 = page.get_by_label("M1 (first message)")
    m1.fill("Hi {first_name}, it's {agent_name} at {company_name}. Still thinking about solar? Reply STOP to opt out")
    page.get_by_role("button", name="Save settings").click()
    _shot(page, "flow-campaign-saved-1280")
    expect(page.locator(".messages")).to_contain_text("Settings saved.")
    page.get_by_role("button", name="Start campaign").click()
    expect(page.locator(".badge.active, .badge", has_text="Active").first).to_be_visible()

    # One cadence run: both leads get M1; the lead page shows it, marked as the cadence's.
    assert _cadence_run(alpha) == 2
    page.goto(f"{base}/leads/{gareth.pk}/")
    thread = page.get_by_role("region", name="Conversation")
    expect(thread.locator(".bubble.by-cadence")).to_contain_text("Still thinking about solar?")
    expect(thread.locator(".bubble.by-cadence .author")).to_have_text("Cadence · M1")

    # The inbox is open in a second tab while Gareth answers from the simulator.
    inbox = page.context.new_page()
    inbox.set_viewport_size(DESKTOP)
    inbox.goto(f"{base}/inbox/")
    expect(inbox.get_by_role("heading", name="Inbox")).to_be_visible()
    page.goto(f"{base}/simulator/")
    page.get_by_role("link", name=re.compile("Gareth Evans")).click()
    page.get_by_label("Reply as the lead").fill("Yes still interested, how much for a 3 bed semi?")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("log", name="Texts")).to_contain_text("how much for a 3 bed semi?", timeout=20_000)
    expect(inbox.locator("#inbox-list")).to_contain_text("how much for a 3 bed semi?", timeout=30_000)  # polled

    # Take over and answer by hand from the inbox.
    inbox.locator(".inbox-entry", has_text="Gareth").get_by_role("link", name="Read and reply").click()
    panel = inbox.locator("#inbox-conversation")
    expect(panel).to_contain_text("how much for a 3 bed semi?")
    panel.get_by_label("Reply to Gareth").fill("About £6k fitted. Shall I ring you tomorrow?")
    panel.get_by_role("button", name="Send reply").click()
    expect(panel).to_contain_text("Reply queued")
    with schema_context(alpha.schema_name):
        assert Lead.objects.get(pk=gareth.pk).manual_mode  # the reply took the lead over

    # The lead page tells the whole story: cadence, lead, staff, and why Sophie is quiet.
    page.goto(f"{base}/leads/{gareth.pk}/")
    expect(thread.locator(".bubble.by-lead")).to_contain_text("how much for a 3 bed semi?")
    expect(thread.locator(".bubble.by-staff")).to_contain_text("About £6k fitted")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Manual mode")
    _shot(page, "flow-lead-1280")

    # The overview counts what happened.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Overview").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Spring show")
    figures = page.get_by_role("region", name="Figures")
    for label, value in [("Texted (M1 sent)", "2"), ("Replied", "1")]:
        card = figures.locator(".card", has=page.get_by_text(label, exact=True))
        expect(card.locator(".figure")).to_have_text(value)
    _shot(page, "flow-overview-1280")
    inbox.close()


# --- Every main page at both widths --------------------------------------------------------------


@pytest.fixture
def lived_in(new_client):
    """A client with a dataset, texts both ways (one failed) and a suppressed number."""
    base, alpha = new_client
    from campaigns.models import Conversation, Message
    from leads.models import Suppression
    from leads.services import dataset_create

    with schema_context(alpha.schema_name):
        dataset = dataset_create(name="Solar enquiries from the spring 2024 home shows")
        lead = Lead.objects.create(
            dataset=dataset, first_name="Gareth", last_name="Evans", phone_number="+447700900101", manual_mode=True
        )
        Lead.objects.create(
            dataset=dataset,
            first_name="Landline",
            phone_number="+441632960001",
            sms_capable=False,
            sms_capable_reason="A UK landline: it cannot receive SMS",
        )
        conversation = Conversation.objects.create(lead=lead, dataset=dataset)
        for status, direction, kind in [
            ("delivered", "outbound", "M1"),
            ("received", "inbound", None),
            ("undelivered", "outbound", "reply"),
        ]:
            Message.objects.create(
                conversation=conversation,
                lead=lead,
                content="Hi Gareth, still thinking about solar panels for the house this spring?",
                direction=direction,
                status=status,
                message_type=kind,
                error_code="30003" if status == "undelivered" else None,
                error_message="The handset is off or out of reach." if status == "undelivered" else None,
            )
        Suppression.objects.create(phone_number="+447700900555", source="opt_out", reason="Replied STOP")
    return base, dataset, lead


MAIN_PAGES = [
    ("overview", "/"),
    ("datasets", "/datasets/"),
    ("dataset", "/datasets/{dataset}/"),
    ("import", "/datasets/import/"),
    ("leads", "/leads/"),
    ("lead", "/leads/{lead}/"),
    ("inbox", "/inbox/"),
    ("campaigns", "/campaigns/"),
    ("campaign", "/campaigns/{dataset}/"),
    ("suppressions", "/suppressions/"),
    ("simulator", "/simulator/"),
    ("notifications", "/notifications/"),
    ("settings", "/settings/"),
    ("settings-company", "/settings/company/"),
    ("settings-numbers", "/settings/numbers/"),
    ("settings-users", "/settings/users/"),
]


def _sideways(page) -> list[str]:
    """Elements past the viewport's right edge (the page scrolls sideways), outside scrolling tables."""
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        return [...document.querySelectorAll('body *')]
          .filter(el => !el.closest('.table-wrap, .subnav') && el.getBoundingClientRect().right > width + 1)
          .map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right));
    }""")


def _widest(page) -> list[str]:
    """When the page is wider than the screen but no element sticks out of it: the widest elements, to say why."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')].filter(el => !el.closest('table'))
        .map(el => [el.tagName + '.' + el.className + '#' + el.id, Math.round(el.getBoundingClientRect().right),
                    el.scrollWidth - el.clientWidth])
        .sort((a, b) => b[1] - a[1]).slice(0, 5).map(String)""")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_main_page_fits_and_answers(lived_in, page, size):
    base, dataset, lead = lived_in
    page.set_viewport_size(size)
    page.goto(f"{base}/login/")
    _shot(page, f"login-{size['width']}")
    _sign_in(page, base)
    problems = {}
    for name, path in MAIN_PAGES:
        response = page.goto(base + path.format(dataset=dataset.pk, lead=lead.pk))
        _shot(page, f"{name}-{size['width']}")
        if response.status >= 400:
            problems[name] = f"answered {response.status}"
        elif page.evaluate("document.documentElement.scrollWidth") > size["width"] or _sideways(page):
            problems[name] = _sideways(page) or _widest(page)
        elif page.locator("h1").count() != 1:
            problems[name] = "no single h1"
    assert problems == {}


def test_a_logo_and_colour_set_in_settings_show_in_the_nav_and_on_the_sign_in_page(new_client, page, tmp_path):
    import io

    from PIL import Image

    base, alpha = new_client
    logo = tmp_path / "logo.png"
    buffer = io.BytesIO()
    Image.new("RGB", (300, 100), (0, 51, 102)).save(buffer, format="PNG")
    logo.write_bytes(buffer.getvalue())
    try:
        page.set_viewport_size(DESKTOP)
        _sign_in(page, base)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
        page.get_by_role("navigation", name="Settings").get_by_role("link", name="Company and branding").click()
        page.get_by_label("Logo file").set_input_files(str(logo))
        page.get_by_role("button", name="Upload logo").click()
        expect(page.locator(".messages")).to_contain_text("Logo saved")
        page.get_by_label("Colour", exact=True).fill("#003366")
        page.get_by_role("button", name="Save colour").click()
        expect(page.locator(".messages")).to_contain_text("Brand colour saved")

        nav_logo = page.locator(".topbar .brand-logo")
        expect(nav_logo).to_be_visible()
        assert page.evaluate("document.querySelector('.topbar .brand-logo').naturalWidth") > 0
        label = page.evaluate("getComputedStyle(document.querySelector('button.primary')).color")
        assert label == "rgb(255, 255, 255)"  # white reads on navy
        _shot(page, "settings-branded-1280")

        page.locator(".user-menu summary").click()
        page.get_by_role("button", name="Sign out").click()
        page.goto(f"{base}/login/")
        expect(page.locator(".auth-brand .brand-logo")).to_be_visible()
        assert page.evaluate("document.querySelector('.auth-brand .brand-logo').naturalWidth") > 0
        _shot(page, "login-branded-1280")
    finally:
        from clients.models import ClientLogo

        with schema_context("public"):
            ClientLogo.objects.filter(client=alpha).delete()
            Client.objects.filter(pk=alpha.pk).update(logo_url=None, primary_color="#8cc63f")
