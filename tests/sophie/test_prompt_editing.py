"""The wizard, templates, the editor, apply-a-lesson, the diff, and going live / rolling back as people do it
(docs/prompts.md): every change a new draft row, every refusal a clear message and no change."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django_tenants.utils import schema_context

from leads.models import Dataset
from leads.services import dataset_create
from sophie.agent import PREVIEW_REPLIES, agent_preview
from sophie.models import Lesson, Prompt, PromptTemplate, PromptVersion
from sophie.prompts import (
    MAX_SECTION_CHARS,
    PromptRefused,
    WizardAnswers,
    prompt_default_create,
    prompt_diff,
    prompt_for_dataset_create,
    prompt_from_template_create,
    prompt_from_wizard_create,
    prompt_go_live,
    prompt_lesson_apply,
    prompt_rollback,
    prompt_sections_save,
    template_from_prompt_create,
    wizard_structure,
)
from sophie.selectors import prompt_live_for

AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ANSWERS = WizardAnswers(
    company="Greenstar Solar",
    offer="solar panels and batteries",
    audience="homeowners in Kent who asked for a quote",
    lead_age="6 to 24 months",
    tone="warm, plain and brief",
    goal="Find out if they are still interested and book a short call.",
    booking_link="https://cal.com/greenstar/15min",
    never_say="prices\n- limited time offers",
)


@pytest.fixture
def default(alpha) -> Prompt:
    Prompt.objects.all().delete()
    return prompt_default_create(at=AT)


def _lesson(**fields) -> Lesson:
    spec = {
        "lesson_type": Lesson.Type.OBJECTION_HANDLING,
        "title": "Already have panels",
        "trigger": "They say they already have panels",
        "correct_response": "Great, thanks for letting us know. Would a battery be of interest?",
        "status": Lesson.Status.ACTIVE,
    } | fields
    return Lesson.objects.create(**spec)


def test_the_wizard_turns_answers_into_sections_with_their_source(default):
    structure = wizard_structure(ANSWERS)

    assert "Greenstar Solar offers: solar panels and batteries" in structure["context"]["content"]
    assert structure["context"]["source"] == "wizard" and "company" in structure["context"]["why"]
    assert "https://cal.com/greenstar/15min" in structure["goal"]["content"]
    assert "- Never say: prices" in structure["boundaries"]["content"]
    assert "- Never say: limited time offers" in structure["boundaries"]["content"]
    assert structure["knowledge"]["source"] == "template"


def test_the_wizard_previews_three_replies_with_the_real_agent_and_saves_nothing(default):
    before = (Prompt.objects.count(), PromptVersion.objects.count())

    preview = agent_preview(structure=wizard_structure(ANSWERS), dataset=None, at=AT)

    assert [reply for reply, _ in preview] == list(PREVIEW_REPLIES)
    assert all(result.action in ("send", "handoff") for _, result in preview)
    assert all(result.backend == "rules" and result.attempts for _, result in preview)
    assert (Prompt.objects.count(), PromptVersion.objects.count()) == before


def test_the_wizard_saves_a_draft_for_a_dataset_and_the_default_stays_live(default, owner):
    dataset = dataset_create(name="Kent 2024")

    draft = prompt_from_wizard_create(dataset=dataset, answers=ANSWERS, actor=owner, at=AT)

    assert (draft.dataset, draft.status, draft.created_from) == (dataset, "draft", Prompt.CreatedFrom.WIZARD)
    assert draft.wizard_answers["company"] == "Greenstar Solar"
    assert prompt_live_for(dataset=dataset) == default


def test_the_wizard_refuses_missing_answers(default, owner):
    answers = WizardAnswers.from_data({"company": "  ", "offer": "solar"})

    assert set(answers.problems()) == {"company", "audience", "lead_age", "tone", "goal"}
    with pytest.raises(PromptRefused, match="missing"):
        prompt_from_wizard_create(dataset=None, answers=answers, actor=owner, at=AT)
    assert Prompt.objects.count() == 1


def test_a_template_starts_a_draft_and_counts_its_use(default, owner):
    template = PromptTemplate.objects.get(category="solar_dbr_recent", is_system_template=True)
    used = template.times_used
    dataset = dataset_create(name="Recent")

    draft = prompt_from_template_create(template=template, dataset=dataset, actor=owner, at=AT)
    again = prompt_from_template_create(template=template, dataset=dataset, actor=owner, at=AT)

    template.refresh_from_db()
    assert template.times_used == used + 2
    assert (draft.template, draft.version_number, again.version_number) == (template, 1, 2)
    assert again.previous_version == draft
    assert {section["source"] for section in draft.prompt_structure.values()} == {"template"}


def test_a_version_kept_as_the_client_s_own_template(default, owner):
    mine = template_from_prompt_create(prompt=default, name="Our house style", description="", actor=owner)

    assert (mine.is_system_template, mine.template_structure) == (False, default.prompt_structure)
    with pytest.raises(PromptRefused, match="already have a template"):
        template_from_prompt_create(prompt=default, name="our house style", description="", actor=owner)
    with pytest.raises(PromptRefused, match="needs a name"):
        template_from_prompt_create(prompt=default, name="  ", description="", actor=owner)


def test_the_editor_makes_a_new_draft_and_marks_what_staff_changed(default, owner):
    text = default.prompt_structure["tone"]["content"]

    draft = prompt_sections_save(
        base=default,
        contents={"tone": "Warm and brief.", "goal": default.prompt_structure["goal"]["content"]},
        why="Leads said we sound stiff",
        actor=owner,
        at=AT,
    )

    default.refresh_from_db()
    assert default.prompt_structure["tone"]["content"] == text  # the base row never changes
    assert draft.prompt_structure["tone"] == {
        "content": "Warm and brief.",
        "source": "staff_edit",
        "why": "Leads said we sound stiff",
    }
    assert draft.prompt_structure["goal"] == default.prompt_structure["goal"]
    record = PromptVersion.objects.get(prompt=draft)
    assert record.changes["sections_changed"] == ["tone"] and record.created_by == owner
    assert draft.manual_edits_count == default.manual_edits_count + 1


def test_the_editor_refuses_a_50000_character_section_and_saves_nothing(default, owner):
    count = Prompt.objects.count()

    with pytest.raises(PromptRefused, match=f"at most {MAX_SECTION_CHARS:,}"):
        prompt_sections_save(base=default, contents={"knowledge": "x" * 50_000}, why="", actor=owner, at=AT)

    assert Prompt.objects.count() == count


def test_the_editor_refuses_a_save_that_changes_nothing(default, owner):
    with pytest.raises(PromptRefused, match="Nothing changed"):
        prompt_sections_save(
            base=default, contents={"tone": default.prompt_structure["tone"]["content"]}, why="", actor=owner, at=AT
        )


def test_applying_a_lesson_makes_a_draft_recording_the_lesson_and_the_section(default, owner):
    lesson = _lesson()

    draft = prompt_lesson_apply(base=default, lesson=lesson, actor=owner, at=AT)

    assert "Already have panels" in draft.prompt_structure["objections"]["content"]
    assert draft.prompt_structure["objections"]["source"] == "lesson"
    assert draft.applied_lessons == [lesson.pk] and draft.lessons_count == 1
    record = PromptVersion.objects.get(prompt=draft)
    assert record.lesson_applied == lesson and record.changes["sections_changed"] == ["objections"]
    assert record.changes["lesson_id"] == str(lesson.pk)
    with pytest.raises(PromptRefused, match="already includes"):
        prompt_lesson_apply(base=draft, lesson=lesson, actor=owner, at=AT)


def test_each_lesson_type_lands_in_its_section(default, owner):
    never = _lesson(lesson_type=Lesson.Type.NEVER_RULE, title="mention competitors")
    word = _lesson(lesson_type=Lesson.Type.BLACKLIST_WORD, title="guaranteed")

    first = prompt_lesson_apply(base=default, lesson=never, actor=owner, at=AT)
    second = prompt_lesson_apply(base=first, lesson=word, actor=owner, at=AT)

    assert "- Never: mention competitors." in second.prompt_structure["boundaries"]["content"]
    assert "- Never use the word or phrase: guaranteed." in second.prompt_structure["boundaries"]["content"]
    assert second.applied_lessons == [never.pk, word.pk]


def test_an_archived_lesson_is_refused(default, owner):
    lesson = _lesson(status=Lesson.Status.ARCHIVED)
    count = Prompt.objects.count()

    with pytest.raises(PromptRefused, match="archived"):
        prompt_lesson_apply(base=default, lesson=lesson, actor=owner, at=AT)

    assert Prompt.objects.count() == count


def test_the_diff_shows_changed_added_and_removed_lines_side_by_side(default, owner):
    structure = {name: dict(section) for name, section in default.prompt_structure.items()}
    structure["tone"] = {"content": "Line one\nLine two changed\nLine three", "source": "staff_edit", "why": ""}
    structure["goal"] = {"content": default.prompt_structure["goal"]["content"] + "\nA new line", "source": "x"}
    old = Prompt(prompt_structure={**structure, "tone": {"content": "Line one\nLine two\nLine three"}})
    new = Prompt(prompt_structure=structure)

    diff = {section.name: section for section in prompt_diff(old, new)}

    assert [(row.kind, row.left, row.right) for row in diff["tone"].rows] == [
        ("same", "Line one", "Line one"),
        ("changed", "Line two", "Line two changed"),
        ("same", "Line three", "Line three"),
    ]
    assert not diff["goal"].changed  # both sides have the new line here (same structure)
    assert not diff["context"].changed
    added = prompt_diff(Prompt(prompt_structure={"tone": {"content": "a"}}), Prompt(prompt_structure=structure))
    assert any(row.kind == "added" for section in added for row in section.rows)


def test_going_live_is_refused_when_the_live_version_changed_meanwhile(default, owner):
    first = prompt_sections_save(base=default, contents={"tone": "One."}, why="", actor=owner, at=AT)
    second = prompt_sections_save(base=default, contents={"tone": "Two."}, why="", actor=owner, at=AT)
    prompt_go_live(prompt=first, actor=owner, at=AT, replacing=default.pk)

    with pytest.raises(PromptRefused, match="Someone else changed the live version"):
        prompt_go_live(prompt=second, actor=owner, at=AT, replacing=default.pk)

    assert prompt_live_for(dataset=None) == Prompt.objects.get(pk=first.pk)
    assert Prompt.objects.get(pk=second.pk).status == Prompt.Status.DRAFT


def test_rolling_back_a_prompt_of_an_archived_dataset_is_refused(default, owner):
    dataset = dataset_create(name="Old list")
    v1 = prompt_go_live(prompt=prompt_for_dataset_create(dataset=dataset, actor=owner, at=AT), actor=owner, at=AT)
    v2 = prompt_sections_save(base=v1, contents={"tone": "Newer."}, why="", actor=owner, at=AT)
    prompt_go_live(prompt=v2, actor=owner, at=AT)
    Dataset.objects.filter(pk=dataset.pk).update(archived=True, archived_at=AT)

    with pytest.raises(PromptRefused, match="Old list is archived"):
        prompt_rollback(to=Prompt.objects.get(pk=v1.pk), actor=owner, at=AT)

    assert Prompt.objects.get(dataset=dataset, is_live=True).pk == v2.pk


def test_rolling_back_to_a_draft_is_refused(default, owner):
    draft = prompt_sections_save(base=default, contents={"tone": "Draft."}, why="", actor=owner, at=AT)
    with pytest.raises(PromptRefused, match="never live"):
        prompt_rollback(to=draft, actor=owner, at=AT)


def test_two_people_going_live_at_the_same_moment_exactly_one_wins(tenants, committed_db):
    with schema_context("alpha"):
        Prompt.objects.all().delete()
        base = prompt_default_create(at=AT)
        drafts = [
            prompt_sections_save(base=base, contents={"tone": f"Tone {n}"}, why="", actor=None, at=AT).pk
            for n in range(2)
        ]
    barrier = threading.Barrier(len(drafts))
    won, refused, errors = [], [], []

    def go_live(pk):
        try:
            with schema_context("alpha"):
                prompt = Prompt.objects.get(pk=pk)
                barrier.wait()
                won.append(
                    prompt_go_live(prompt=prompt, actor=None, at=AT + timedelta(seconds=1), replacing=base.pk).pk
                )
        except PromptRefused as refusal:
            refused.append((pk, str(refusal)))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go_live, args=[pk]) for pk in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and len(won) == 1 and len(refused) == 1
    assert "Someone else changed the live version" in refused[0][1]
    with schema_context("alpha"):
        assert [p.pk for p in Prompt.objects.filter(dataset=None, is_live=True)] == won
        assert Prompt.objects.get(pk=refused[0][0]).status == Prompt.Status.DRAFT


def test_the_diff_folds_long_unchanged_runs():
    lines = [f"line {n}" for n in range(1, 21)]
    changed = [*lines[:9], "line ten, rewritten", *lines[10:]]

    rows = prompt_diff(
        Prompt(prompt_structure={"tone": {"content": "\n".join(lines)}}),
        Prompt(prompt_structure={"tone": {"content": "\n".join(changed)}}),
    )[0].rows

    assert [row.kind for row in rows] == ["skip", "same", "same", "changed", "same", "same", "skip"]
    assert rows[0].left == "7 unchanged lines" and rows[-1].left == "8 unchanged lines"
    assert (rows[3].left_no, rows[3].left, rows[3].right) == (10, "line 10", "line ten, rewritten")
