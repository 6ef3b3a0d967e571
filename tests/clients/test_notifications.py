"""Notifications: a lead turning HOT or handed off tells its rep (else the owners), in the bell and by e-mail."""

from django.core import mail
from django.utils import timezone

from clients.models import Notification, User
from leads.models import Lead
from leads.services import lead_assign, lead_status_change
from sophie.writing import reply_handoff
from tests.campaigns.helpers import campaign_dataset

HOST = {"HTTP_HOST": "alpha.localhost"}


def _lead() -> Lead:
    return campaign_dataset(name="Notified", leads=1).leads.get()


def test_a_hot_lead_tells_the_owners_when_nobody_is_assigned(alpha, owner, django_capture_on_commit_callbacks):
    lead = _lead()

    with django_capture_on_commit_callbacks(execute=True):
        lead_status_change(lead=lead, status="HOT", actor=None, reason="Reply read as interested")

    [row] = Notification.objects.filter(user=owner)
    assert row.kind == "hot" and row.lead_id == lead.pk and row.url == f"/leads/{lead.pk}/"
    assert row.emailed_at is not None
    assert mail.outbox[-1].to == [owner.email] and "Hot lead" in mail.outbox[-1].subject
    assert f"/leads/{lead.pk}/" in mail.outbox[-1].body


def test_the_assigned_rep_is_told_instead(alpha, owner, teammate, django_capture_on_commit_callbacks):
    lead = _lead()
    lead_assign(lead=lead, assignee=teammate, actor=owner)

    with django_capture_on_commit_callbacks(execute=True):
        lead_status_change(lead=lead, status="HOT", actor=None)

    assert list(Notification.objects.values_list("user__email", flat=True)) == [teammate.email]


def test_the_person_who_made_it_hot_is_not_told(alpha, owner):
    lead = _lead()

    lead_status_change(lead=lead, status="HOT", actor=owner)

    assert not Notification.objects.exists()


def test_no_notification_when_the_dataset_turned_them_off(alpha, owner):
    lead = _lead()
    lead.dataset.campaign_settings.hot_lead_notification = False
    lead.dataset.campaign_settings.save()

    lead_status_change(lead=lead, status="HOT", actor=None)

    assert not Notification.objects.exists()


def test_a_hand_off_notifies(alpha, owner):
    lead = _lead()

    reply_handoff(lead=lead, reason="asked about grants", at=timezone.now())

    [row] = Notification.objects.filter(user=owner)
    assert row.kind == "handoff" and "grants" in row.body


def test_the_bell_counts_and_marks_read(alpha, owner, client):
    lead = _lead()
    lead_status_change(lead=lead, status="HOT", actor=None)
    reply_handoff(lead=lead, reason="asked for a person", at=timezone.now())
    client.force_login(owner)

    page = client.get("/", **HOST).content.decode()
    assert "Notifications, 2 unread" in page

    row = Notification.objects.filter(user=owner, kind="hot").get()
    response = client.post(f"/notifications/{row.pk}/open/", **HOST)
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    client.post("/notifications/read-all/", **HOST)
    assert not Notification.objects.filter(user=owner, read_at=None).exists()


def test_nobody_opens_someone_elses_notification(alpha, owner, teammate, client):
    lead = _lead()
    lead_status_change(lead=lead, status="HOT", actor=None)
    row = Notification.objects.get(user=owner)
    client.force_login(teammate)

    assert client.post(f"/notifications/{row.pk}/open/", **HOST).status_code == 404
    assert client.get("/notifications/", **HOST).content.decode().count("Hot lead") == 0
    assert User.objects.filter(pk=owner.pk).exists()
