"""Prompt versions (docs/prompts.md): the client default, drafts, going live, rollback, and what the agent reads."""

import importlib
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_context

from clients.models import Client, Domain
from clients.services import client_create
from leads.models import CampaignSettings
from leads.services import dataset_create
from sophie.models import Lesson, Prompt, PromptImmutable, PromptTemplate, PromptVersion
from sophie.prompts import (
    PromptRefused,
    prompt_compile,
    prompt_default_create,
    prompt_draft_create,
    prompt_draft_edit,
    prompt_for_dataset_create,
    prompt_go_live,
    prompt_rollback,
)
from sophie.selectors import agent_inputs, lessons_active, prompt_live_for

AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
MIGRATION = "0005_client_default_prompt"


def _default() -> Prompt:
    return Prompt.objects.get(dataset=None, is_live=True)


def _edited(prompt: Prompt, section: str, text: str) -> dict:
    structure = {name: dict(value) for name, value in prompt.prompt_structure.items()}
    structure[section]["content"] = text
    return structure


@pytest.fixture
def fresh_default(alpha) -> Prompt:
    """Alpha with exactly its provisioning default (tests with committed data may have wiped it)."""
    Prompt.objects.all().delete()
    return prompt_default_create(at=AT)


@pytest.fixture
def omega(committed_db):
    yield
    with schema_context("public"):
        for client in Client.objects.filter(slug="omega"):
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{client.schema_name}" CASCADE')
            Domain.objects.filter(tenant=client).delete()
            Client.objects.filter(pk=client.pk).delete()


def test_it_gives_a_new_client_a_live_default_from_the_template_for_its_industry(omega):
    client_create(name="Omega Kitchens", slug="omega", industry=Client.Industry.HOME_IMPROVEMENT)

    with schema_context("omega"):
        default = _default()
        general = PromptTemplate.objects.get(category="general", is_system_template=True)
        assert (default.template, default.status, default.version, default.version_number) == (
            general,
            Prompt.Status.LIVE,
            "1.0",
            1,
        )
        assert default.compiled_prompt == prompt_compile(general.template_structure)
        record = PromptVersion.objects.get(prompt=default)
        assert record.created_by_type == PromptVersion.CreatedByType.SYSTEM
        assert record.changes["template_category"] == "general"
        assert Prompt.objects.count() == 1


def test_a_solar_client_s_default_comes_from_the_old_database_template_and_is_made_once(alpha):
    Prompt.objects.all().delete()

    first = prompt_default_create(at=AT)
    again = prompt_default_create(at=AT + timedelta(hours=1))

    assert first == again and first.template.category == "solar_dbr_old"
    assert (first.deployed_at, first.created_at) == (AT, AT)
    assert Prompt.objects.count() == 1 and PromptVersion.objects.count() == 1


def test_it_compiles_sections_in_the_seed_order_whatever_the_json_order():
    structure = {
        "boundaries": {"content": "B"},
        "extra": {"content": "X"},
        "context": {"content": "C"},
        "tone": {"content": "T"},
        "goal": {"content": "G"},
    }

    assert prompt_compile(structure) == "## Context\nC\n\n## Goal\nG\n\n## Tone\nT\n\n## Boundaries\nB\n\n## Extra\nX"


def test_the_dataset_s_live_prompt_wins_over_the_default(fresh_default, owner):
    own, other = dataset_create(name="Own prompt"), dataset_create(name="Default prompt")
    assert prompt_live_for(dataset=own) == fresh_default

    draft = prompt_for_dataset_create(dataset=own, actor=owner, at=AT)
    assert prompt_live_for(dataset=own) == fresh_default  # a draft is not used

    live = prompt_go_live(prompt=draft, actor=owner, at=AT)

    assert prompt_live_for(dataset=own) == live
    assert prompt_live_for(dataset=other) == fresh_default
    assert prompt_live_for(dataset=None) == fresh_default
    assert (live.copied_from_prompt, live.created_from) == (fresh_default, Prompt.CreatedFrom.COPIED)


def test_it_makes_the_default_again_when_it_is_missing(alpha):
    Prompt.objects.all().delete()

    prompt = prompt_live_for(dataset=dataset_create(name="Nothing"), at=AT)

    assert prompt == _default() and prompt.dataset is None


def test_going_live_flips_exactly_one_row(fresh_default, owner):
    draft = prompt_draft_create(
        base=fresh_default,
        structure=_edited(fresh_default, "tone", "Warm and brief."),
        actor=owner,
        at=AT,
        summary="Warmer tone",
    )
    assert (draft.status, draft.is_live, draft.previous_version) == (Prompt.Status.DRAFT, False, fresh_default)

    live = prompt_go_live(prompt=draft, actor=owner, at=AT + timedelta(minutes=5))

    fresh_default.refresh_from_db()
    assert (live.status, live.is_live, live.deployed_at, live.deployed_by) == (
        Prompt.Status.LIVE,
        True,
        AT + timedelta(minutes=5),
        owner,
    )
    assert (fresh_default.status, fresh_default.is_live) == (Prompt.Status.ARCHIVED, False)
    assert list(Prompt.objects.filter(is_live=True)) == [live]
    record = PromptVersion.objects.filter(prompt=live).latest("created_at")
    assert record.changes == {"type": "went_live", "replaced": str(fresh_default.pk), "replaced_version": "1.0"}
    with pytest.raises(PromptRefused, match="already live"):
        prompt_go_live(prompt=live, actor=owner, at=AT)


def test_a_draft_records_which_sections_changed(fresh_default, owner):
    lesson = Lesson.objects.filter(status=Lesson.Status.ACTIVE).first()
    before = fresh_default.prompt_structure["goal"]["content"]

    draft = prompt_draft_create(
        base=fresh_default,
        structure=_edited(fresh_default, "goal", "Book a call."),
        actor=None,
        at=AT,
        summary="Applied a lesson",
        lesson=lesson,
        created_by_type=PromptVersion.CreatedByType.SOPHIE,
    )

    record = PromptVersion.objects.get(prompt=draft)
    assert record.changes["sections_changed"] == ["goal"]
    assert record.changes["before"] == {"goal": before} and record.changes["after"] == {"goal": "Book a call."}
    assert (record.lesson_applied, record.created_by_type, record.changes_summary) == (
        lesson,
        "sophie",
        "Applied a lesson",
    )
    assert draft.applied_lessons == [lesson.pk] and draft.manual_edits_count == 0
    assert "## Goal\nBook a call." in draft.compiled_prompt


def test_version_numbers_count_per_dataset(fresh_default, owner):
    first, second = dataset_create(name="First"), dataset_create(name="Second")
    a1 = prompt_for_dataset_create(dataset=first, actor=owner, at=AT)
    a2 = prompt_draft_create(base=a1, structure=a1.prompt_structure, actor=owner, at=AT, summary="again")
    a3 = prompt_draft_create(base=a1, structure=a1.prompt_structure, actor=owner, at=AT, summary="from v1")
    b1 = prompt_for_dataset_create(
        dataset=second, template=PromptTemplate.objects.get(category="general"), actor=owner, at=AT
    )
    d2 = prompt_draft_create(
        base=fresh_default, structure=fresh_default.prompt_structure, actor=owner, at=AT, summary="x"
    )

    assert [(p.version_number, p.version) for p in (a1, a2, a3)] == [(1, "1.0"), (2, "2.0"), (3, "3.0")]
    assert (a2.previous_version, a3.previous_version) == (a1, a1)
    assert (b1.version_number, b1.created_from, b1.template.category) == (1, "template", "general")
    assert (d2.version_number, d2.dataset) == (2, None)
    assert [r.version for r in PromptVersion.objects.filter(prompt__dataset=first).order_by("version_number")] == [
        "1.0",
        "2.0",
        "3.0",
    ]


def test_it_rolls_back_to_an_earlier_version(fresh_default, owner):
    v2 = prompt_go_live(
        prompt=prompt_draft_create(
            base=fresh_default, structure=_edited(fresh_default, "tone", "New"), actor=owner, at=AT, summary="v2"
        ),
        actor=owner,
        at=AT,
    )

    back = prompt_rollback(to=fresh_default, actor=owner, at=AT + timedelta(hours=1), reason="v2 put people off")

    v2.refresh_from_db()
    assert back == fresh_default and back.is_live and back.status == Prompt.Status.LIVE
    assert (v2.is_live, v2.status) == (False, Prompt.Status.ARCHIVED)
    assert prompt_live_for(dataset=None) == fresh_default
    record = PromptVersion.objects.filter(prompt=back).latest("created_at")
    assert record.changes == {
        "type": "rolled_back",
        "replaced": str(v2.pk),
        "replaced_version": "2.0",
        "reason": "v2 put people off",
    }
    assert record.changes_summary == "Rolled back to v1.0 from v2.0: v2 put people off"
    with pytest.raises(PromptRefused, match="earlier version"):
        prompt_rollback(to=v2, actor=owner, at=AT)
    assert prompt_go_live(prompt=v2, actor=owner, at=AT).is_live  # rolling forward is going live again


def test_a_live_or_archived_row_never_changes_its_text(fresh_default, owner):
    draft = prompt_draft_create(
        base=fresh_default, structure=fresh_default.prompt_structure, actor=owner, at=AT, summary="d"
    )
    edited = prompt_draft_edit(prompt=draft, structure=_edited(draft, "tone", "Edited in the draft"), at=AT)
    assert "Edited in the draft" in Prompt.objects.get(pk=draft.pk).compiled_prompt

    prompt_go_live(prompt=edited, actor=owner, at=AT)

    for row in (Prompt.objects.get(pk=draft.pk), Prompt.objects.get(pk=fresh_default.pk)):  # live, archived
        with pytest.raises(PromptImmutable, match="never changes"):
            prompt_draft_edit(prompt=row, structure=_edited(row, "tone", "Sneaky"), at=AT)
        row.prompt_structure["tone"]["content"] = "Edited in place"
        with pytest.raises(PromptImmutable):
            row.save()
        row = Prompt.objects.get(pk=row.pk)
        row.name, row.conversations_count = "Renamed", 4  # everything but the text may change
        row.save()
    assert "Sneaky" not in "".join(Prompt.objects.values_list("compiled_prompt", flat=True))


def test_the_database_refuses_a_second_live_row(fresh_default, owner):
    draft = prompt_draft_create(
        base=fresh_default, structure=fresh_default.prompt_structure, actor=owner, at=AT, summary="d"
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Prompt.objects.filter(pk=draft.pk).update(is_live=True)


def test_two_concurrent_go_lives_leave_exactly_one_live(tenants, committed_db):
    with schema_context("alpha"):
        base = prompt_default_create(at=AT)
        drafts = [
            prompt_draft_create(
                base=base, structure=_edited(base, "tone", f"Tone {n}"), actor=None, at=AT, summary=f"draft {n}"
            ).pk
            for n in range(2)
        ]
    barrier = threading.Barrier(len(drafts))
    outcomes, errors = [], []

    def go_live(pk):
        try:
            with schema_context("alpha"):
                prompt = Prompt.objects.get(pk=pk)
                barrier.wait()
                outcomes.append(prompt_go_live(prompt=prompt, actor=None, at=AT).pk)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go_live, args=[pk]) for pk in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and sorted(outcomes) == sorted(drafts)
    with schema_context("alpha"):
        live = list(Prompt.objects.filter(dataset=None, is_live=True))
        assert len(live) == 1 and live[0].pk == outcomes[-1]
        # The first to go live was replaced by the second, which saw it live (the lock serialised them).
        last = PromptVersion.objects.get(prompt_id=outcomes[-1], changes__type="went_live")
        assert last.changes["replaced"] == str(outcomes[0])
        assert Prompt.objects.get(pk=outcomes[0]).status == Prompt.Status.ARCHIVED


def _migration_function():
    return importlib.import_module(f"sophie.migrations.{MIGRATION}").client_default_prompt


def _historical_apps():
    return MigrationLoader(connection).project_state(("sophie", MIGRATION)).apps


def test_the_data_migration_gives_a_schema_without_a_default_one(alpha):
    Prompt.objects.all().delete()
    schema_editor = SimpleNamespace(connection=connection)

    _migration_function()(_historical_apps(), schema_editor)
    _migration_function()(_historical_apps(), schema_editor)  # a second run changes nothing

    default = _default()
    assert (default.version_number, default.template.category, default.status) == (1, "solar_dbr_old", "live")
    assert default.compiled_prompt == prompt_compile(default.prompt_structure)
    assert PromptVersion.objects.get(prompt=default).created_by_type == "system"
    assert Prompt.objects.count() == 1


def test_the_data_migration_leaves_the_public_schema_and_a_new_schema_alone(alpha):
    Prompt.objects.all().delete()
    connection.set_schema_to_public()
    _migration_function()(_historical_apps(), SimpleNamespace(connection=connection))

    connection.set_tenant(alpha)
    assert not Prompt.objects.exists()
    PromptTemplate.objects.all().delete()  # a schema being created has no templates yet: the seed does it
    _migration_function()(_historical_apps(), SimpleNamespace(connection=connection))
    assert not Prompt.objects.exists()


def test_the_agent_reads_the_live_prompt_and_active_lessons_with_merge_fields_filled(fresh_default, owner):
    dataset = dataset_create(name="Merge")
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(
        agent_name="Jo", cal_booking_link="https://cal.com/alpha/survey"
    )
    dataset.refresh_from_db()
    Lesson.objects.create(lesson_type="dos_donts", title="Top {agent_name}", priority=10_000, status="active")
    Lesson.objects.create(lesson_type="dos_donts", title="Old one", priority=20_000, status="archived")

    inputs = agent_inputs(dataset=dataset, at=AT)

    assert inputs.prompt == fresh_default
    assert "{company_name}" not in inputs.text and "Alpha Solar Ltd" in inputs.text
    assert "https://cal.com/alpha/survey" in inputs.sections["goal"] and "Jo" in inputs.sections["context"]
    assert list(inputs.sections) == ["context", "goal", "tone", "knowledge", "objections", "boundaries"]
    assert inputs.lessons[0].title == "Top Jo"
    assert "Old one" not in {lesson.title for lesson in inputs.lessons}
    assert [v.id for v in inputs.lessons] == [str(lesson.pk) for lesson in lessons_active()]
    assert [v.priority for v in inputs.lessons] == sorted((v.priority for v in inputs.lessons), reverse=True)
    assert not any("{company_name}" in (v.description + v.correct_response) for v in inputs.lessons)


HOST = {"HTTP_HOST": "alpha.localhost"}
ADMIN = "/admin/sophie/prompt/"


def test_the_admin_shows_versions_read_only_and_its_actions_call_the_services(fresh_default, owner, client):
    draft = prompt_draft_create(
        base=fresh_default, structure=_edited(fresh_default, "tone", "Admin"), actor=owner, at=AT, summary="d"
    )
    client.force_login(owner)

    assert client.get(ADMIN, **HOST).status_code == 200
    assert client.get(ADMIN + "add/", **HOST).status_code == 403
    client.post(f"{ADMIN}{draft.pk}/change/", {"name": "edited", "compiled_prompt": "x"}, **HOST)
    assert Prompt.objects.get(pk=draft.pk).compiled_prompt == draft.compiled_prompt
    assert client.get("/admin/sophie/promptversion/add/", **HOST).status_code == 403

    made = client.post(ADMIN, {"action": "make_live", "_selected_action": [draft.pk]}, follow=True, **HOST)

    assert f"v{draft.version} is now live for the client default" in made.content.decode()
    assert prompt_live_for(dataset=None) == draft
    back = client.post(ADMIN, {"action": "roll_back", "_selected_action": [fresh_default.pk]}, follow=True, **HOST)
    assert "v1.0 is now live" in back.content.decode() and prompt_live_for(dataset=None) == fresh_default
    refused = client.post(ADMIN, {"action": "roll_back", "_selected_action": [draft.pk]}, follow=True, **HOST)
    assert "earlier version" in refused.content.decode() and prompt_live_for(dataset=None) == fresh_default
    record = PromptVersion.objects.filter(prompt=fresh_default).latest("created_at")
    assert (record.changes["type"], record.created_by) == ("rolled_back", owner)
