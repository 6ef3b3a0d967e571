"""Who may be messaged, per purpose: the rules, and the queryset and per-lead forms agreeing on them."""

import itertools

import pytest
from django.utils import timezone

from leads.eligibility import Purpose
from leads.models import Lead, LeadEvent, Suppression
from leads.services import dataset_create, lead_leave_cadence

P = Purpose
EVERY = set(Purpose)
# A lead state → the purposes it stops, written out by hand (not read from the rules it checks).
STOPS = {
    "ready": set(),
    "suppressed": EVERY - {P.OPT_OUT_CONFIRMATION},
    "archived": EVERY - {P.TEST},
    "not sms capable": EVERY - {P.TEST},
    "manual mode": {P.CADENCE, P.NUDGE, P.AI_REPLY},
    "flagged duplicate": {P.CADENCE, P.NUDGE},
    "replied": {P.CADENCE, P.NUDGE},
    "contacted 3 times": {P.CADENCE},
    **{
        f"status {status}": {P.CADENCE, P.NUDGE}
        for status in ("HOT", "WARM", "COLD", "CALL_BOOKED", "CONVERTED", "REMOVED", "ARCHIVED")
    },
}
FIELDS = {
    "archived": {"archived": True},
    "not sms capable": {"sms_capable": False},
    "manual mode": {"manual_mode": True},
    "flagged duplicate": {"is_duplicate": True},
    "replied": {"reply_received_at": timezone.now()},
    "contacted 3 times": {"contact_status": "CONTACTED_3"},
    **{state: {"contact_status": state.split()[1]} for state in STOPS if state.startswith("status ")},
}


def _lead(dataset, n: int, *, suppressed: bool = False, **fields) -> Lead:
    lead = Lead(dataset=dataset, first_name=f"Lead{n}", phone_number=f"+4477009{n:05d}", **fields)
    if suppressed:
        Suppression.objects.create(phone_number=lead.phone_number, source=Suppression.Source.STAFF)
    return lead


@pytest.mark.parametrize("purpose", list(Purpose))
@pytest.mark.parametrize("state", list(STOPS))
def test_each_state_stops_the_purposes_it_should(alpha, state, purpose):
    dataset = dataset_create(name="Eligibility")
    lead = _lead(dataset, 1, suppressed=state == "suppressed", **FIELDS.get(state, {}))
    lead.save()

    reason = lead.not_messageable_reason(purpose=purpose, suppressed=state == "suppressed")
    listed = Lead.objects.messageable(purpose=purpose).filter(pk=lead.pk).exists()

    assert (reason is not None) == (purpose in STOPS[state]), reason
    assert listed == (reason is None)


def test_the_reason_names_what_stops_the_lead(alpha):
    dataset = dataset_create(name="Reasons")
    lead = _lead(dataset, 1, manual_mode=True, contact_status="HOT")

    assert lead.not_messageable_reason(purpose=P.STAFF, suppressed=False) is None
    assert lead.not_messageable_reason(purpose=P.AI_REPLY, suppressed=False) == "the lead is in manual mode"
    assert lead.not_messageable_reason(purpose=P.CADENCE, suppressed=True) == "the number is suppressed"
    lead.manual_mode = False
    assert lead.not_messageable_reason(purpose=P.CADENCE, suppressed=False) == "the lead is hot"


def test_the_queryset_and_the_per_lead_reason_agree_on_every_combination(alpha):
    dataset = dataset_create(name="Grid")
    statuses = [choice.value for choice in Lead.ContactStatus]
    flags = itertools.product([False, True], repeat=6)
    grid = list(enumerate(itertools.product(flags, statuses)))
    leads = [
        _lead(
            dataset,
            n,
            archived=archived,
            sms_capable=capable,
            manual_mode=manual,
            is_duplicate=duplicate,
            reply_received_at=timezone.now() if replied else None,
            contact_status=status,
        )
        for n, ((_, archived, capable, manual, duplicate, replied), status) in grid
    ]
    Lead.objects.bulk_create(leads)
    on_list = [lead.phone_number for lead, (_, (flag, _)) in zip(leads, grid, strict=True) if flag[0]]
    Suppression.objects.bulk_create(
        [Suppression(phone_number=number, source=Suppression.Source.STAFF) for number in on_list]
    )
    suppressed = set(Suppression.objects.values_list("phone_number", flat=True))

    for purpose in Purpose:
        listed = set(Lead.objects.messageable(purpose=purpose).filter(dataset=dataset).values_list("pk", flat=True))
        allowed = {
            lead.pk
            for lead in leads
            if lead.not_messageable_reason(purpose=purpose, suppressed=lead.phone_number in suppressed) is None
        }
        assert listed == allowed, purpose
        assert 0 < len(allowed) < len(leads)  # the grid holds both sides for every purpose


def test_leaving_the_cadence_clears_the_step_and_writes_one_event_per_lead_that_was_in_it(alpha):
    dataset = dataset_create(name="Leaving")
    at = timezone.now()
    due, taken, out = (
        _lead(dataset, 1, next_step="M2", due_at=at),
        _lead(dataset, 2, next_step="M1"),  # queued by the tick: a step, nothing due
        _lead(dataset, 3),
    )
    Lead.objects.bulk_create([due, taken, out])

    left = lead_leave_cadence(leads=dataset.leads.all(), reason="The campaign ended.", at=at)

    assert left == 2
    assert set(dataset.leads.values_list("next_step", "due_at")) == {(None, None)}
    events = LeadEvent.objects.filter(event_type="cadence_left")
    assert sorted(e.lead_id for e in events) == sorted([due.pk, taken.pk])
    assert {(e.data["reason"], e.created_at) for e in events} == {("The campaign ended.", at)}
