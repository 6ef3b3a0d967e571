"""Sophie › Lessons through the test client: everyone reads, lesson editors write, outsiders see nothing."""

import pytest

from clients.models import User
from sophie.lessons import lesson_create
from sophie.models import Lesson
from tests.sophie.test_lessons import PRICE

HOST = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def lesson(owner) -> Lesson:
    return lesson_create(actor=owner, fields=PRICE)


def test_the_nav_leads_to_the_sophie_section(alpha, teammate, client):
    client.force_login(teammate)

    page = client.get("/sophie/", follow=True, **HOST).content.decode()

    assert 'href="/sophie/"' in page and "Lessons" in page and "Insights" in page and "<small>soon" not in page


def test_everyone_reads_the_library_and_searches_it(lesson, teammate, client):
    client.force_login(teammate)

    page = client.get("/sophie/lessons/", {"q": "expensive"}, **HOST).content.decode()
    partial = client.get("/sophie/lessons/", {"lesson_type": "blacklist_word"}, HTTP_HX_REQUEST="true", **HOST)

    assert "Too expensive" in page and "New lesson" not in page
    assert (
        partial.content.decode().startswith('\n<div id="lesson-table">')
        and "Too expensive" not in partial.content.decode()
    )


def test_a_rep_without_the_right_cannot_write(lesson, teammate, client):
    client.force_login(teammate)

    assert client.get("/sophie/lessons/new/", **HOST).status_code == 403
    assert client.post("/sophie/lessons/new/", {**PRICE, "title": "Mine"}, **HOST).status_code == 403
    assert client.post(f"/sophie/lessons/{lesson.pk}/", {**PRICE, "title": "Mine"}, **HOST).status_code == 403
    assert client.post(f"/sophie/lessons/{lesson.pk}/archive/", **HOST).status_code == 403
    lesson.refresh_from_db()
    assert lesson.title == "Too expensive" and lesson.status == "active"


def test_a_rep_with_can_edit_lessons_creates_and_edits(alpha, make_user, client):
    editor = make_user(alpha, "editor@alpha.example", User.Role.SALES_REP, can_edit_lessons=True)
    client.force_login(editor)

    response = client.post("/sophie/lessons/new/", PRICE, **HOST)
    lesson = Lesson.objects.get(title="Too expensive")
    client.post(f"/sophie/lessons/{lesson.pk}/", {**PRICE, "title": "Price worries"}, **HOST)

    assert response.status_code == 302 and response["Location"] == f"/sophie/lessons/{lesson.pk}/"
    lesson.refresh_from_db()
    assert lesson.title == "Price worries" and lesson.created_by == editor


def test_bad_input_shows_a_clear_message(owner, client):
    client.force_login(owner)

    empty = client.post("/sophie/lessons/new/", {**PRICE, "title": "   "}, **HOST)
    spaces = client.post(
        "/sophie/lessons/new/", {"lesson_type": "blacklist_word", "title": "   ", "status": "active"}, **HOST
    )

    assert empty.status_code == 200 and "A lesson needs a title." in empty.content.decode()
    assert "cannot be empty or only spaces" in spaces.content.decode()
    assert not Lesson.objects.filter(source="user_taught").exists()


def test_archive_and_archive_again(lesson, owner, client):
    client.force_login(owner)

    client.post(f"/sophie/lessons/{lesson.pk}/archive/", **HOST)
    again = client.post(f"/sophie/lessons/{lesson.pk}/archive/", follow=True, **HOST).content.decode()

    lesson.refresh_from_db()
    assert lesson.status == "archived" and "already archived" in again


def test_testing_a_lesson_on_the_page(lesson, teammate, client):
    client.force_login(teammate)  # trying a lesson changes nothing, so readers may

    result = client.post(
        f"/sophie/lessons/{lesson.pk}/test/", {"sample": "how much does it cost?"}, HTTP_HX_REQUEST="true", **HOST
    ).content.decode()
    empty = client.post(f"/sophie/lessons/{lesson.pk}/test/", {"sample": " "}, HTTP_HX_REQUEST="true", **HOST)

    assert "The lesson applies." in result and "using this lesson" in result
    assert "Write a sample reply" in empty.content.decode()


def test_outsiders_see_nothing(lesson, outsider, client):
    client.force_login(outsider)

    for path in ("/sophie/lessons/", f"/sophie/lessons/{lesson.pk}/"):
        response = client.get(path, **HOST)
        assert response.status_code in (302, 403, 404) and "Too expensive" not in response.content.decode()
    assert client.post(f"/sophie/lessons/{lesson.pk}/archive/", **HOST).status_code in (302, 403, 404)
    lesson.refresh_from_db()
    assert lesson.status == "active"


def test_another_clients_lesson_is_not_found_on_its_own_host(lesson, beta, make_user, client):
    beta_owner = make_user(beta, "boss@beta.example", User.Role.COMPANY_OWNER)
    client.force_login(beta_owner)

    assert client.get(f"/sophie/lessons/{lesson.pk}/", HTTP_HOST="beta.localhost").status_code == 404
