"""Prompts in a browser: apply a lesson to the live prompt, read the side-by-side diff, make it live, and see
that Sophie now uses it; then the same pages at phone width."""

import os

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from clients.models import User
from sophie.models import Lesson, Prompt
from sophie.prompts import prompt_default_create
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow
SHOTS = os.environ.get("DBR_SCREENSHOTS", "")  # a folder to keep screenshots in, for a person to look at


@pytest.fixture
def prompts_site(live_url, tenants):
    base = live_url("alpha")
    with schema_context("public"):
        User.objects.create_user("owner@alpha.example", PASSWORD, client=tenants["alpha"], role="company_owner")
    connection.set_tenant(tenants["alpha"])
    lesson = Lesson.objects.create(
        lesson_type=Lesson.Type.OBJECTION_HANDLING,
        title="Already has panels",
        trigger="They say they already have solar panels",
        correct_response="Good to hear. Would a battery to store what they make be worth a chat?",
        source=Lesson.Source.USER_TAUGHT,
    )
    default = prompt_default_create(at=timezone.now())  # the live default (made again if a wipe took it)
    return base, lesson, default


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_apply_a_lesson_see_the_diff_and_go_live(prompts_site, page):
    base, lesson, default = prompts_site
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    page.goto(f"{base}/sophie/prompts/")
    _shot(page, "prompts-list")
    page.get_by_role("link", name=f"Client default v{default.version}").first.click()
    expect(page.get_by_text("Sophie uses this version now")).to_be_visible()
    page.get_by_label("Apply a lesson (makes a new draft)").select_option(label=f"{lesson.title} (Objection handling)")
    page.get_by_role("button", name="Apply the lesson").click()

    # The diff: the objections section changed, the new line marked as added on the right.
    expect(page.get_by_role("heading", name=f"v{default.version} → v2.0")).to_be_visible()
    objections = page.get_by_role("region", name="Objections changed")
    expect(objections.locator("ins")).to_contain_text("Already has panels")
    expect(page.get_by_role("region", name="Tone unchanged")).to_be_visible()
    _shot(page, "prompt-diff")

    page.get_by_role("button", name="Make v2.0 live").click()
    expect(page.get_by_text("v2.0 is live: Sophie uses it from her next reply.")).to_be_visible()
    expect(page.get_by_text("Sophie uses this version now")).to_be_visible()
    expect(page.get_by_role("heading", name="Client default v2.0 Live")).to_be_visible()
    _shot(page, "prompt-detail")
    with schema_context("alpha"):
        live = Prompt.objects.get(dataset=None, is_live=True)
        assert live.version == "2.0" and live.applied_lessons == [lesson.pk]

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/sophie/prompts/{default.pk}/diff/?against={live.pk}")
    expect(page.get_by_role("heading", name="Objections changed")).to_be_visible()
    _shot(page, "prompt-diff-phone")
    page.goto(f"{base}/sophie/prompts/{live.pk}/")
    _shot(page, "prompt-detail-phone")


def test_the_version_page_shows_figures_a_chart_and_the_trial_comparison(prompts_site, page):
    from datetime import UTC, datetime

    from sophie.prompts import prompt_for_dataset_create, prompt_go_live, prompt_sections_save
    from sophie.trials import CONTROL, TRIAL, trial_start
    from tests.campaigns.helpers import campaign_dataset
    from tests.sophie.test_trials import _arm_conversations

    base, _, _ = prompts_site
    at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with schema_context("alpha"):  # the browser's event loop gives this thread a fresh connection
        dataset = campaign_dataset(name="Kent 2024", leads=0)
        live = prompt_go_live(prompt=prompt_for_dataset_create(dataset=dataset, actor=None, at=at), actor=None, at=at)
        draft = prompt_sections_save(base=live, contents={"tone": "Shorter."}, why="Shorter texts", actor=None, at=at)
        trial = trial_start(prompt=draft, share_percent=50, actor=None, at=at)
        _arm_conversations(dataset, trial, draft, TRIAL, replied=45, total=60, start=10_000)
        _arm_conversations(dataset, trial, live, CONTROL, replied=24, total=60, start=20_000)

    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{base}/sophie/prompts/{draft.pk}/")

    expect(page.get_by_role("img", name="Reply rate after an AI text, by version")).to_be_visible()
    figures = page.get_by_role("table").filter(has_text="AI texts").first
    expect(figures.get_by_role("row", name="Reply rate after an AI text 75% (45/60)")).to_be_visible()
    trial_box = page.get_by_role("region", name=f"Trial of v{draft.version}")
    expect(trial_box).to_contain_text("Significant")
    expect(trial_box).to_contain_text("the trial version does better")
    expect(trial_box.get_by_role("button", name=f"Make v{draft.version} live")).to_be_visible()
    _shot(page, "prompt-trial")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "prompt-trial-phone")


def test_the_wizard_previews_three_answers_then_saves_a_draft(prompts_site, page):
    base, _, _ = prompts_site
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("owner@alpha.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{base}/sophie/prompts/")
    page.get_by_role("link", name="Write a prompt with the wizard").click()

    page.get_by_label("Company name").fill("Alpha Solar")
    page.get_by_label("What you offer").fill("solar panels and batteries")
    page.get_by_label("Who the leads are").fill("homeowners in Kent who asked for a quote")
    page.get_by_label("How long ago they enquired").fill("6 to 24 months")
    page.get_by_label("Tone").fill("friendly, plain, brief")
    page.get_by_label("Goal").fill("Find out if they are still interested and book a short call.")
    page.get_by_label("Things never to say (one a line, optional)").fill("prices\nlimited time offers")
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="How Sophie would answer")).to_be_visible()
    expect(page.locator(".preview-replies .card")).to_have_count(3)
    expect(page.get_by_text("- Never say: prices")).to_be_visible()
    _shot(page, "prompt-wizard")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_text("Saved as draft v2.0")).to_be_visible()
    expect(page.get_by_role("heading", name="Client default v2.0 Draft")).to_be_visible()
