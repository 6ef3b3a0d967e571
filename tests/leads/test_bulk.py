"""Bulk actions (leads/bulk.py, campaigns' remove and suppress): a confirmation with the exact number,
one service each, events per lead, roles and dataset restrictions, and the background job for many."""

import pytest
from django.utils import timezone

from campaigns.models import Message
from campaigns.outbox.queue import message_queue
from clients.models import User
from leads import bulk
from leads.models import Lead, LeadEvent, Suppression
from leads.services import dataset_create
from leads.tasks import bulk_job
from tests.campaigns.helpers import NUMBER

HOST = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def lists(alpha):
    north, south = dataset_create(name="North"), dataset_create(name="South")
    for n in range(6):
        Lead.objects.create(dataset=north if n < 4 else south, first_name=f"L{n}", phone_number=f"+44770090{n:04d}")
    return north, south


def _post(client, **data):
    return client.post("/leads/bulk/", data, **HOST)


def test_it_asks_for_confirmation_with_the_number_then_acts(lists, owner, client):
    north, _ = lists
    client.force_login(owner)

    asked = _post(client, action="manual_on", scope="all", filters=f"dataset={north.pk}")

    assert asked.status_code == 200
    assert "4 leads" in asked.content.decode()
    assert not Lead.objects.filter(manual_mode=True).exists()

    done = _post(client, action="manual_on", scope="all", filters=f"dataset={north.pk}", confirm="1")

    assert done.status_code == 302
    assert set(Lead.objects.filter(manual_mode=True)) == set(north.leads.all())
    assert LeadEvent.objects.filter(event_type="manual_mode", actor=owner).count() == 4


def test_ticked_leads_only(lists, owner, client):
    client.force_login(owner)
    ticked = list(Lead.objects.order_by("first_name")[:2])

    _post(client, action="archive", scope="selected", id=[str(lead.pk) for lead in ticked], confirm="1")

    assert set(Lead.objects.filter(archived=True)) == set(ticked)
    north, south = lists
    north.refresh_from_db()
    assert north.active_leads == 2  # the counters follow


def test_assign_and_unassign(lists, owner, teammate, client):
    client.force_login(owner)

    _post(client, action="assign", scope="all", assignee=str(teammate.pk), confirm="1")
    assert Lead.objects.filter(assigned_to=teammate).count() == 6
    _post(client, action="assign", scope="all", assignee="", confirm="1")
    assert Lead.objects.filter(assigned_to__isnull=False).count() == 0
    assert LeadEvent.objects.filter(event_type="assigned").count() == 12


def test_remove_and_suppress_cancels_queued_texts(lists, owner, client):
    north, _ = lists
    lead = north.leads.order_by("first_name").first()
    queued = message_queue(lead=lead, content="Hi", message_type=Message.Type.M1, from_number=NUMBER, at=timezone.now())
    client.force_login(owner)

    _post(client, action="remove_and_suppress", scope="selected", id=[str(lead.pk)], confirm="1")

    lead.refresh_from_db()
    queued.refresh_from_db()
    assert lead.contact_status == "REMOVED"
    assert Suppression.objects.get(phone_number=lead.phone_number).source == Suppression.Source.STAFF
    assert queued.status == Message.Status.CANCELLED
    north.refresh_from_db()
    assert north.removed_leads == 1


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (User.Role.SALES_REP, "archive", False),
        (User.Role.SALES_REP, "remove_and_suppress", False),
        (User.Role.SALES_REP, "assign", False),
        (User.Role.SALES_REP, "manual_on", True),
        (User.Role.READ_ONLY, "manual_on", False),
        (User.Role.READ_ONLY, "export", False),
        (User.Role.MANAGER, "archive", True),
    ],
)
def test_roles(lists, make_user, alpha, client, role, action, allowed):
    user = make_user(alpha, f"{role}@alpha.example", role, can_view_all_leads=True)
    client.force_login(user)

    response = _post(client, action=action, scope="all", confirm="1")

    assert (response.status_code != 403) is allowed


def test_a_user_limited_to_one_dataset_touches_only_that_one(lists, make_user, alpha, client):
    north, south = lists
    limited = make_user(alpha, "limited@alpha.example", User.Role.MANAGER, allowed_dataset_ids=[str(south.pk)])
    client.force_login(limited)
    other = north.leads.first()

    _post(client, action="archive", scope="all", confirm="1")
    _post(client, action="archive", scope="selected", id=[str(other.pk)], confirm="1")

    assert set(Lead.objects.filter(archived=True)) == set(south.leads.all())


def test_many_leads_run_as_a_background_job_with_progress(lists, owner, client, monkeypatch):
    queued = []
    monkeypatch.setattr(bulk, "INLINE_MAX", 2)
    monkeypatch.setattr(bulk, "BATCH", 4)
    monkeypatch.setattr("leads.views.enqueue", lambda task, *args, **kwargs: queued.append(args) or True)
    client.force_login(owner)

    response = _post(client, action="archive", scope="all", confirm="1")

    assert response.status_code == 302 and "/leads/bulk/" in response["Location"]
    job_id = queued[0][0]
    waiting = client.get(response["Location"], **HOST).content.decode()
    assert "6 leads to go" in waiting
    bulk_job(*queued[0])
    finished = client.get(response["Location"], **HOST).content.decode()
    assert "Done: 6 of 6" in finished
    assert bulk.bulk_progress_get(job_id)["done"] == 6
    assert Lead.objects.filter(archived=True).count() == 6


def test_bad_bulk_input_is_a_clear_answer(lists, owner, client):
    client.force_login(owner)

    assert _post(client, action="archive", scope="selected", id=["nope"], confirm="1").status_code == 400
    assert _post(client, action="archive", scope="all", filters="status=NOPE").status_code == 400
    assert _post(client, action="fly", scope="all").status_code == 302
    assert _post(client, action="archive", scope="selected").status_code == 302
    assert client.get("/leads/bulk/zzz/", **HOST).status_code == 404
    assert not Lead.objects.filter(archived=True).exists()


def test_export_of_the_selection(lists, owner, client):
    client.force_login(owner)
    lead = Lead.objects.order_by("first_name").first()

    response = _post(client, action="export", scope="selected", id=[str(lead.pk)])
    csv = b"".join(client.get(response["Location"], **HOST).streaming_content).decode()

    assert lead.phone_number in csv and csv.count("\n") == 2


def test_exporting_all_that_match_streams_a_few_and_writes_many_in_the_background(lists, owner, client, monkeypatch):
    """More than INLINE_MAX leads: a background job writes the file to the exports (progress as it goes),
    and its page links to the download, which serves the table's leads in the table's order."""
    north, _ = lists
    queued = []
    monkeypatch.setattr("leads.bulk.enqueue", lambda task, *args, **kwargs: queued.append((task, args)) or True)
    monkeypatch.setattr("leads.exports.PROGRESS_EVERY", 2)
    client.force_login(owner)

    few = _post(client, action="export", scope="all", filters=f"dataset={north.pk}")
    assert "/leads/export/" in few["Location"] and f"dataset={north.pk}" in few["Location"] and not queued

    monkeypatch.setattr(bulk, "INLINE_MAX", 3)
    response = _post(client, action="export", scope="all", filters="sort=first_name")
    assert response.status_code == 302 and "/leads/bulk/" in response["Location"]
    task, args = queued[0]
    job_id = args[0]
    assert "6 leads to go" in client.get(response["Location"], **HOST).content.decode()

    task(*args)

    progress = bulk.bulk_progress_get(job_id)
    assert progress["phase"] == "done" and progress["done"] == 6
    page = client.get(response["Location"], **HOST).content.decode()
    assert "Your export of 6 leads is ready" in page and "Download the CSV" in page
    download = client.get(f"/files/exports/{progress['file']}", **HOST)
    rows = b"".join(download.streaming_content).decode().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == [f"L{n}" for n in range(6)]


def test_an_export_job_that_fails_says_so_and_keeps_no_file(lists, owner, client, monkeypatch):
    queued = []
    monkeypatch.setattr("leads.bulk.enqueue", lambda task, *args, **kwargs: queued.append((task, args)) or True)
    monkeypatch.setattr(bulk, "INLINE_MAX", 3)
    client.force_login(owner)
    response = _post(client, action="export", scope="all")
    task, args = queued[0]

    def broken(*_, **__):
        raise OSError("storage is full")

    monkeypatch.setattr("leads.exports.save_client_file", broken)
    with pytest.raises(OSError):
        task(*args)

    page = client.get(response["Location"], **HOST).content.decode()
    assert "storage is full" in page and "No file was kept" in page


def test_no_worker_means_no_export_and_a_clear_message(lists, owner, client, monkeypatch):
    monkeypatch.setattr("leads.bulk.enqueue", lambda *args, **kwargs: False)
    monkeypatch.setattr(bulk, "INLINE_MAX", 3)
    client.force_login(owner)

    response = _post(client, action="export", scope="all")

    assert response.status_code == 302 and "/leads/bulk/" not in response["Location"]
    page = client.get(response["Location"], **HOST).content.decode()
    assert "background worker is unavailable" in page
