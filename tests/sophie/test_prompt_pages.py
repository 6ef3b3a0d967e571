"""Sophie › Prompts pages through the test client: who reads, who writes, isolation between clients, and
bad input answered with a message (never a 500)."""

from datetime import UTC, datetime

import pytest

from clients.models import User
from leads.services import dataset_create
from sophie.models import Lesson, Prompt, PromptTemplate, PromptTrial
from sophie.prompts import prompt_default_create, prompt_for_dataset_create, prompt_sections_save
from sophie.trials import trial_start

HOST = {"HTTP_HOST": "alpha.localhost"}
AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def default(alpha) -> Prompt:
    Prompt.objects.all().delete()
    return prompt_default_create(at=AT)


@pytest.fixture
def reader(alpha, make_user) -> User:
    return make_user(alpha, "reader@alpha.example", User.Role.READ_ONLY)


def _page(client, user, path, **extra):
    client.force_login(user)
    return client.get(path, **HOST, **extra)


def test_everyone_reads_the_prompts_and_only_editors_see_the_buttons(default, owner, reader, client):
    page = _page(client, owner, "/sophie/prompts/").content.decode()
    assert "Client default v1.0" in page and "/sophie/prompts/wizard/" in page and "Start a draft" in page

    response = _page(client, reader, "/sophie/prompts/")
    assert response.status_code == 200
    assert "Client default v1.0" in response.content.decode()
    assert "/sophie/prompts/wizard/" not in response.content.decode()
    detail = _page(client, reader, f"/sophie/prompts/{default.pk}/").content.decode()
    assert "Sophie uses this version now" in detail and "Make live" not in detail and "Not enough data yet" in detail


def test_a_reader_cannot_change_anything(default, reader, client):
    draft = prompt_sections_save(base=default, contents={"tone": "x"}, why="", actor=None, at=AT)
    client.force_login(reader)

    for path in (
        f"/sophie/prompts/{draft.pk}/go-live/",
        f"/sophie/prompts/{draft.pk}/trial/",
        f"/sophie/prompts/{default.pk}/apply-lesson/",
        f"/sophie/prompts/{default.pk}/edit/",
        "/sophie/prompts/wizard/",
    ):
        assert client.post(path, {"share": 20}, **HOST).status_code == 403, path
    draft.refresh_from_db()
    assert draft.status == Prompt.Status.DRAFT and not PromptTrial.objects.exists()


def test_an_outsider_sees_none_of_it(default, outsider, client):
    client.force_login(outsider)

    for path in ("/sophie/prompts/", f"/sophie/prompts/{default.pk}/", f"/sophie/prompts/{default.pk}/diff/"):
        response = client.get(path, **HOST)
        assert response.status_code in (302, 403, 404), path
        assert "Client default" not in response.content.decode()


def test_a_user_limited_to_some_datasets_sees_only_their_prompts(default, alpha, make_user, client):
    mine, theirs = dataset_create(name="Mine"), dataset_create(name="Theirs")
    hidden = prompt_for_dataset_create(dataset=theirs, actor=None, at=AT)
    user = make_user(alpha, "limited@alpha.example", User.Role.MANAGER, allowed_dataset_ids=[str(mine.pk)])

    assert _page(client, user, f"/sophie/prompts/{hidden.pk}/").status_code == 404
    assert "Theirs" not in _page(client, user, "/sophie/prompts/").content.decode()


def test_the_editor_saves_a_new_draft_and_shows_the_diff(default, owner, client):
    client.force_login(owner)
    form = {f"section_{name}": section["content"] for name, section in default.prompt_structure.items()}
    form |= {"section_tone": "Warm, brief, no jargon.", "why": "Too stiff"}

    response = client.post(f"/sophie/prompts/{default.pk}/edit/", form, **HOST)

    draft = Prompt.objects.get(version_number=2)
    assert response.status_code == 302 and response["Location"] == f"/sophie/prompts/{draft.pk}/diff/"
    diff = client.get(response["Location"], **HOST).content.decode()
    assert "Warm, brief, no jargon." in diff and "added: " in diff and "removed: " in diff
    assert f'name="replacing" value="{default.pk}"' in diff


def test_a_50000_character_section_is_a_clear_error_not_a_500(default, owner, client):
    client.force_login(owner)
    form = {f"section_{name}": section["content"] for name, section in default.prompt_structure.items()}
    form["section_knowledge"] = "x" * 50_000

    response = client.post(f"/sophie/prompts/{default.pk}/edit/", form, **HOST)

    assert response.status_code == 400
    assert "Knowledge is 50,000 characters" in response.content.decode()
    assert Prompt.objects.count() == 1


def test_going_live_from_a_stale_page_is_refused_with_a_message(default, owner, client):
    first = prompt_sections_save(base=default, contents={"tone": "One"}, why="", actor=owner, at=AT)
    second = prompt_sections_save(base=default, contents={"tone": "Two"}, why="", actor=owner, at=AT)
    client.force_login(owner)

    client.post(f"/sophie/prompts/{first.pk}/go-live/", {"replacing": str(default.pk)}, **HOST)
    response = client.post(f"/sophie/prompts/{second.pk}/go-live/", {"replacing": str(default.pk)}, follow=True, **HOST)

    assert "Someone else changed the live version" in response.content.decode()
    assert Prompt.objects.get(is_live=True, dataset=None).pk == first.pk


def test_apply_an_archived_lesson_or_a_bad_id_is_a_message(default, owner, client):
    archived = Lesson.objects.create(lesson_type="never_rule", title="Old rule", status=Lesson.Status.ARCHIVED)
    client.force_login(owner)

    archived_page = client.post(
        f"/sophie/prompts/{default.pk}/apply-lesson/", {"lesson": str(archived.pk)}, follow=True, **HOST
    )
    bad = client.post(f"/sophie/prompts/{default.pk}/apply-lesson/", {"lesson": "not-a-uuid"}, follow=True, **HOST)

    assert "is archived" in archived_page.content.decode()
    assert "Choose a lesson to apply." in bad.content.decode()
    assert Prompt.objects.count() == 1


def test_apply_a_lesson_goes_to_the_diff(default, owner, client):
    lesson = Lesson.objects.create(lesson_type="objection_handling", title="Too expensive", trigger="price")
    client.force_login(owner)

    response = client.post(f"/sophie/prompts/{default.pk}/apply-lesson/", {"lesson": str(lesson.pk)}, **HOST)

    draft = Prompt.objects.get(version_number=2)
    assert response["Location"] == f"/sophie/prompts/{draft.pk}/diff/" and draft.applied_lessons == [lesson.pk]


def test_the_wizard_previews_then_saves_a_draft(default, owner, client):
    client.force_login(owner)
    answers = {
        "company": "Greenstar",
        "offer": "solar panels",
        "audience": "homeowners",
        "lead_age": "a year",
        "tone": "friendly",
        "goal": "Book a call.",
    }

    preview = client.post("/sophie/prompts/wizard/", answers | {"action": "preview"}, **HOST)
    assert preview.status_code == 200 and "How Sophie would answer" in preview.content.decode()
    assert Prompt.objects.count() == 1

    saved = client.post("/sophie/prompts/wizard/", answers | {"action": "save"}, **HOST)
    draft = Prompt.objects.get(version_number=2)
    assert saved["Location"] == f"/sophie/prompts/{draft.pk}/" and draft.created_from == "wizard"

    missing = client.post("/sophie/prompts/wizard/", {"company": "x", "action": "save"}, **HOST)
    assert missing.status_code == 400 and "Please answer this." in missing.content.decode()


def test_start_from_a_template_and_a_trial_with_a_bad_share(default, owner, client):
    dataset = dataset_create(name="Kent")
    template = PromptTemplate.objects.filter(is_system_template=True).first()
    client.force_login(owner)

    client.post(f"/sophie/prompts/templates/{template.pk}/start/", {"dataset": str(dataset.pk)}, **HOST)
    draft = Prompt.objects.get(dataset=dataset)
    for share in ("0", "100", "lots"):
        page = client.post(f"/sophie/prompts/{draft.pk}/trial/", {"share": share}, follow=True, **HOST)
        assert "between 1 and 99" in page.content.decode()
    assert not PromptTrial.objects.exists()

    page = client.post(f"/sophie/prompts/{draft.pk}/trial/", {"share": "25"}, follow=True, **HOST).content.decode()
    assert "Trial started" in page and "on 25% of new conversations" in page
    assert "Not enough data yet" in page
    bogus = client.post(f"/sophie/prompts/templates/{template.pk}/start/", {"dataset": "nope"}, **HOST)
    assert bogus.status_code == 404


def test_trials_are_read_only_in_the_admin(default, owner, client):
    dataset = dataset_create(name="Admin trial")
    trial = trial_start(
        prompt=prompt_for_dataset_create(dataset=dataset, actor=owner, at=AT), share_percent=10, actor=owner, at=AT
    )
    client.force_login(owner)

    assert client.get("/admin/sophie/prompttrial/", **HOST).status_code == 200
    assert client.get("/admin/sophie/prompttrial/add/", **HOST).status_code == 403
    client.post(f"/admin/sophie/prompttrial/{trial.pk}/change/", {"share_percent": 90}, **HOST)
    trial.refresh_from_db()
    assert trial.share_percent == 10
