"""Hot leads are assigned by the dataset's rule: round robin (fair across restarts), territory, manual."""

from collections import Counter

from django.utils import timezone

from clients.models import User
from leads.assignment import lead_hot_assign
from leads.models import Lead, LeadEvent
from leads.services import lead_status_change
from tests.campaigns.helpers import campaign_dataset


def _reps(alpha, make_user, count=3):
    return [make_user(alpha, f"rep{n}@alpha.example", User.Role.SALES_REP) for n in range(count)]


def _dataset(leads=1, **settings):
    return campaign_dataset(name="Assigned", leads=leads, hot_lead_auto_assign=True, **settings)


def test_round_robin_is_fair_over_100_hot_leads(alpha, make_user):
    reps = _reps(alpha, make_user)
    dataset = _dataset(leads=100)

    for lead in dataset.leads.order_by("phone_number"):
        lead_status_change(lead=lead, status="HOT", actor=None, at=timezone.now())

    counts = Counter(Lead.objects.filter(dataset=dataset).values_list("assigned_to", flat=True))
    assert set(counts) == {rep.pk for rep in reps} and max(counts.values()) - min(counts.values()) <= 1


def test_round_robin_carries_on_after_a_restart(alpha, make_user):
    first, second, _ = _reps(alpha, make_user)
    dataset = _dataset(leads=2)
    one, two = dataset.leads.order_by("phone_number")
    lead_hot_assign(lead=one, at=timezone.now())

    # a new process: nothing in memory, the next rep comes from the settings row
    fresh = Lead.objects.select_related("dataset__campaign_settings").get(pk=two.pk)
    lead_hot_assign(lead=fresh, at=timezone.now())

    assert Lead.objects.get(pk=one.pk).assigned_to == first
    assert Lead.objects.get(pk=two.pk).assigned_to == second


def test_territory_picks_the_longest_prefix_else_round_robin(alpha, make_user):
    north, leeds_6, other = _reps(alpha, make_user)
    rules = [{"prefix": "LS", "user_id": str(north.pk)}, {"prefix": "LS6", "user_id": str(leeds_6.pk)}]
    dataset = _dataset(leads=3, hot_lead_assignment_rule="territory", territory_rules=rules)
    a, b, c = dataset.leads.order_by("phone_number")
    Lead.objects.filter(pk=a.pk).update(postcode="ls6 2ab")
    Lead.objects.filter(pk=b.pk).update(postcode="LS1 4DT")
    Lead.objects.filter(pk=c.pk).update(postcode="M1 1AE")

    for lead in Lead.objects.filter(dataset=dataset).select_related("dataset__campaign_settings"):
        lead_hot_assign(lead=lead, at=timezone.now())

    assert Lead.objects.get(pk=a.pk).assigned_to == leeds_6
    assert Lead.objects.get(pk=b.pk).assigned_to == north
    assert Lead.objects.get(pk=c.pk).assigned_to is not None
    reasons = list(LeadEvent.objects.filter(event_type="assigned").values_list("data__reason", flat=True))
    assert "Territory: postcode ls6 2ab" in reasons and "Round robin (no territory rule matched)" in reasons


def test_manual_and_switched_off_assign_nobody(alpha, make_user):
    _reps(alpha, make_user)
    manual = _dataset(hot_lead_assignment_rule="manual").leads.get()
    off = campaign_dataset(name="Off", leads=1).leads.get()

    assert lead_hot_assign(lead=manual, at=timezone.now()) is None
    assert lead_hot_assign(lead=off, at=timezone.now()) is None


def test_no_rep_leaves_it_unassigned_with_the_reason_and_tells_the_owners(alpha, owner):
    lead = _dataset().leads.get()

    lead_status_change(lead=lead, status="HOT", actor=None, at=timezone.now())

    lead.refresh_from_db()
    event = LeadEvent.objects.get(lead=lead, event_type="assigned")
    assert lead.assigned_to is None and "No active sales rep" in event.data["reason"]
    assert owner.notifications.filter(kind="hot").exists()


def test_a_rep_restricted_to_other_datasets_is_never_picked(alpha, make_user):
    allowed, restricted = _reps(alpha, make_user, count=2)
    User.objects.filter(pk=restricted.pk).update(allowed_dataset_ids=[])
    lead = _dataset().leads.get()

    assert lead_hot_assign(lead=lead, at=timezone.now()).user == allowed


def test_the_assigned_rep_is_the_one_told(alpha, make_user, owner):
    [rep] = _reps(alpha, make_user, count=1)
    lead = _dataset().leads.get()

    lead_status_change(lead=lead, status="HOT", actor=None, at=timezone.now())

    assert rep.notifications.filter(kind="hot").exists() and not owner.notifications.exists()


def test_staff_mark_a_lead_converted_with_its_install_date(alpha, owner, client):
    lead = campaign_dataset(name="Won", leads=1).leads.get()
    client.force_login(owner)
    host = {"HTTP_HOST": "alpha.localhost"}

    refused = client.post(f"/leads/{lead.pk}/status/", {"contact_status": "CONVERTED"}, follow=True, **host)
    assert "Give the install date" in refused.content.decode()
    client.post(f"/leads/{lead.pk}/status/", {"contact_status": "CONVERTED", "install_date": "2027-02-14"}, **host)

    lead.refresh_from_db()
    assert lead.contact_status == "CONVERTED" and str(lead.install_date) == "2027-02-14"
    assert lead.dataset.__class__.objects.get(pk=lead.dataset_id).converted_leads == 1
