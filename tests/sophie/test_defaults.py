import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from clients.models import Client, Domain
from clients.services import client_create
from sophie.defaults import DEFAULT_LESSONS, SYSTEM_TEMPLATES
from sophie.models import Lesson, PromptTemplate

CATEGORIES = {"solar_dbr_recent", "solar_dbr_old", "solar_quote_followup", "general"}
SECTIONS = {"context", "goal", "tone", "knowledge", "objections", "boundaries"}
# GSM 03.38 basic alphabet plus its extension table: anything else makes a text UCS-2.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà" "^{}\\[~]|€"
)
SENDABLE = ("title", "description", "trigger", "correct_response", "incorrect_response", "reasoning")


@pytest.fixture
def kappa(committed_db):
    yield
    with schema_context("public"):
        for client in Client.objects.filter(slug="kappa"):
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{client.schema_name}" CASCADE')
            Domain.objects.filter(tenant=client).delete()
            Client.objects.filter(pk=client.pk).delete()


def _blacklist() -> list[str]:
    return [lesson["title"] for lesson in DEFAULT_LESSONS if lesson["lesson_type"] == "blacklist_word"]


def test_it_gives_a_new_client_the_four_system_templates_and_the_default_lessons(kappa):
    client_create(name="Kappa Renewables", slug="kappa")

    with schema_context("kappa"):
        templates = PromptTemplate.objects.filter(is_system_template=True, is_active=True)
        assert set(templates.values_list("category", flat=True)) == CATEGORIES
        assert templates.count() == 4
        for template in templates:
            assert set(template.template_structure) == SECTIONS
            assert all(section["source"] == "system" for section in template.template_structure.values())
        never = set(Lesson.objects.filter(lesson_type="never_rule").values_list("title", flat=True))
        words = set(Lesson.objects.filter(lesson_type="blacklist_word").values_list("title", flat=True))
        assert never == {lesson["title"] for lesson in DEFAULT_LESSONS if lesson["lesson_type"] == "never_rule"}
        assert words == set(_blacklist())
        assert set(Lesson.objects.values_list("source", flat=True)) == {Lesson.Source.SYSTEM}


def test_it_restores_a_changed_system_template_when_synced(alpha):
    template = PromptTemplate.objects.get(category="solar_dbr_old", is_system_template=True)
    template.description = "Edited by hand"
    template.template_structure = {"context": {"content": "stale", "source": "system", "why": ""}}
    template.save()

    call_command("sync_system_templates", stdout=io.StringIO())

    connection.set_tenant(alpha)
    template.refresh_from_db()
    spec = next(t for t in SYSTEM_TEMPLATES if t["category"] == "solar_dbr_old")
    assert template.description == spec["description"]
    assert template.template_structure == spec["template_structure"]


def test_it_changes_nothing_when_synced_twice(alpha, capsys):
    call_command("sync_system_templates")
    connection.set_tenant(alpha)
    before = list(PromptTemplate.objects.order_by("category").values("id", "category", "template_structure", "name"))

    call_command("sync_system_templates")

    connection.set_tenant(alpha)
    after = list(PromptTemplate.objects.order_by("category").values("id", "category", "template_structure", "name"))
    assert after == before and len(after) == 4
    assert "alpha: 4 system templates synced" in capsys.readouterr().out


def test_it_keeps_default_lesson_text_plain_ascii():
    for lesson in DEFAULT_LESSONS:
        for field in SENDABLE:
            text = lesson.get(field) or ""
            assert text.isascii(), f"{lesson['title']!r} {field} has a non-ASCII character: {text!r}"
            assert not set(text) & set("\u2018\u2019\u201c\u201d\u2013\u2014\u2026"), (lesson["title"], field)


def test_it_keeps_template_text_inside_the_gsm7_alphabet():
    for template in SYSTEM_TEMPLATES:
        for name, section in template["template_structure"].items():
            outside = set(section["content"]) - GSM7
            assert not outside, f"{template['category']}.{name} has {outside}"


def test_it_uses_only_known_merge_fields():
    known = {"{company_name}", "{agent_name}", "{booking_link}"}
    texts = [s["content"] for t in SYSTEM_TEMPLATES for s in t["template_structure"].values()]
    texts += [lesson.get(field) or "" for lesson in DEFAULT_LESSONS for field in SENDABLE]
    found = {field for text in texts for field in re.findall(r"\{[^}]*\}", text)}
    assert found <= known


def test_it_blacklists_every_forbidden_claim_family():
    words = {w.lower() for w in _blacklist()}
    assert {
        "free", "fully funded", "government-backed", "government scheme", "last chance", "today only",
        "funding ends soon", "guaranteed", "pays for itself", "up to", "0% finance", "interest-free",
    } <= words
    assert len(words) == len(_blacklist()), "one lesson per word"


def test_it_never_breaks_its_own_blacklist_in_the_answers_it_teaches():
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in _blacklist()) + r")(?!\w)", re.IGNORECASE)
    for lesson in DEFAULT_LESSONS:
        if lesson["lesson_type"] == "blacklist_word":
            continue  # its correct_response is advice to staff, not a text
        answer = lesson.get("correct_response") or ""
        assert not pattern.search(answer), (lesson["title"], answer)
