"""Lessons: the services (every field, bad input, roles), search and filters, the figures from real use,
and "test this lesson"."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from clients.models import User
from sophie.lessons import (
    LessonRefused,
    lesson_archive,
    lesson_create,
    lesson_try,
    lesson_update,
    lessons_find,
)
from sophie.models import AiReply, Lesson
from tests.campaigns.helpers import text_received
from tests.sophie.learning import ai_text, learning_lead
from tests.sophie.test_writing import TUESDAY

PRICE = {
    "lesson_type": "objection_handling",
    "title": "Too expensive",
    "description": "Leads who think solar costs too much",
    "trigger": '"too expensive"',
    "correct_response": "I understand. Most homes see the panels pay for themselves; shall I book a quick call?",
    "incorrect_response": "It is cheap!",
    "reasoning": "Acknowledge, then offer the call.",
    "example_conversation": "Lead: too expensive\nSophie: I understand.",
    "tags": "Price, objection, price",
    "priority": "5",
    "status": "active",
}


@pytest.fixture
def editor(alpha, make_user) -> User:
    return make_user(alpha, "editor@alpha.example", User.Role.SALES_REP, can_edit_lessons=True)


def test_it_creates_a_lesson_with_every_seed_field(owner):
    lesson = lesson_create(actor=owner, fields=PRICE)

    lesson.refresh_from_db()
    assert lesson.tags == ["price", "objection"] and lesson.priority == 5
    assert lesson.example_conversation == [
        {"from": "lead", "text": "too expensive"},
        {"from": "sophie", "text": "I understand."},
    ]
    assert lesson.source == "user_taught" and lesson.created_by_id == owner.pk
    assert lesson.reasoning and lesson.incorrect_response and lesson.trigger


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({**PRICE, "title": "   "}, "needs a title"),
        ({"lesson_type": "blacklist_word", "title": "    "}, "cannot be empty or only spaces"),
        ({"lesson_type": "blacklist_word", "title": "!!"}, "letter or digit"),
        ({**PRICE, "lesson_type": "nonsense"}, "Choose a lesson type"),
        ({**PRICE, "correct_response": ""}, "correct response"),
        ({**PRICE, "priority": "lots"}, "whole number"),
        ({**PRICE, "priority": 1000}, "between -100 and 100"),
        ({**PRICE, "title": "x" * 201}, "keep it to 200"),
        ({**PRICE, "example_conversation": "Someone: hi"}, "Lead:"),
    ],
)
def test_it_refuses_bad_input_with_a_clear_message(owner, fields, message):
    with pytest.raises(LessonRefused, match=message):
        lesson_create(actor=owner, fields=fields)
    assert not Lesson.objects.filter(title__startswith="x" * 10).exists()


def test_only_people_allowed_to_edit_lessons_change_them(owner, teammate, editor):
    lesson = lesson_create(actor=owner, fields=PRICE)

    with pytest.raises(PermissionDenied):
        lesson_create(actor=teammate, fields=PRICE)
    with pytest.raises(PermissionDenied):
        lesson_update(lesson=lesson, actor=teammate, fields={"title": "Mine now"})
    updated = lesson_update(lesson=lesson, actor=editor, fields={"title": "Price worries"})

    assert updated.title == "Price worries" and updated.correct_response == PRICE["correct_response"]


def test_archiving_twice_is_refused(owner):
    lesson = lesson_create(actor=owner, fields=PRICE)
    lesson_archive(lesson=lesson, actor=owner)

    with pytest.raises(LessonRefused, match="already archived"):
        lesson_archive(lesson=lesson, actor=owner)


def test_it_finds_lessons_by_words_type_tag_and_status(owner):
    price = lesson_create(actor=owner, fields=PRICE)
    word = lesson_create(actor=owner, fields={"lesson_type": "blacklist_word", "title": "bargain", "tags": "tone"})
    old = lesson_create(actor=owner, fields={**PRICE, "title": "Old pricing answer", "status": "archived"})

    def found(**filters):  # the platform's default lessons are there too
        return list(lessons_find(**filters).exclude(source="system"))

    assert found(q="costing") == [price]  # "costs" in the description: both stem to "cost"
    assert found(q="bargain") == [word]
    assert found(lesson_type="objection_handling") == [price]
    assert found(tag="Tone") == [word]
    assert found(status="archived") == [old]
    assert old in found(status="all") and old not in found()


def test_the_full_text_search_uses_the_gin_index(owner):
    from django.db import connection

    lesson_create(actor=owner, fields=PRICE)
    sql, params = lessons_find(q="expensive").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "idx_lessons_search" in plan


def test_times_applied_and_success_rate_follow_real_use(alpha, owner, django_capture_on_commit_callbacks):
    lesson = lesson_create(actor=owner, fields=PRICE)
    happy, unhappy = learning_lead("Happy"), learning_lead("Unhappy")
    happy.phone_number, unhappy.phone_number = "+447700900101", "+447700900102"
    happy.save(), unhappy.save()
    capture = django_capture_on_commit_callbacks

    first = ai_text(
        happy, capture, says="too expensive", text="I understand, shall I book a call?", lessons=[lesson.pk]
    )
    ai_text(unhappy, capture, says="too expensive", text="I understand, a quick call?", lessons=[lesson.pk])
    lesson.refresh_from_db()
    assert lesson.times_applied == 2 and lesson.success_rate is None  # nobody answered yet

    with capture(execute=True):
        text_received(happy.phone_number, "ok sounds good", at=TUESDAY + timedelta(minutes=5))
        text_received(unhappy.phone_number, "STOP", at=TUESDAY + timedelta(minutes=5))
        text_received(happy.phone_number, "this is rubbish", at=TUESDAY + timedelta(minutes=9))  # not the next reply

    lesson.refresh_from_db()
    assert lesson.times_applied == 2 and str(lesson.success_rate) == "0.50"
    assert AiReply.objects.get(message=first).lead_outcome == "good"


def test_testing_a_lesson_shows_the_match_and_sophies_answer(alpha, owner):
    lesson = lesson_create(actor=owner, fields={**PRICE, "status": "testing"})

    trial = lesson_try(lesson=lesson, sample="how much does it cost?", at=timezone.now())

    assert trial.matched and "price" in trial.why
    assert trial.used and trial.text == PRICE["correct_response"] and not trial.guardrail


def test_a_lesson_that_does_not_apply_says_why(alpha, owner):
    lesson = lesson_create(actor=owner, fields=PRICE)

    trial = lesson_try(lesson=lesson, sample="I already have solar panels", at=timezone.now())

    assert not trial.matched and "already_has" in trial.why and not trial.used


def test_an_empty_sample_is_refused(alpha, owner):
    lesson = lesson_create(actor=owner, fields=PRICE)

    with pytest.raises(LessonRefused, match="sample reply"):
        lesson_try(lesson=lesson, sample="   ", at=timezone.now())
