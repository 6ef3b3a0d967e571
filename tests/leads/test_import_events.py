"""The import writes each lead's timeline entry in bulk: its upload and file row, merges and suppressions too."""

from leads import events
from leads.models import CampaignSettings, Lead, LeadEvent, Suppression
from leads.selectors import lead_timeline
from leads.services import dataset_create
from tests.leads.test_imports import _csv, _import, _row, _with_action


def _events(event_type: str) -> list[tuple]:
    events = LeadEvent.objects.filter(event_type=event_type).order_by("lead__phone_number")
    return [(event.lead.phone_number, event.actor_id, event.data) for event in events]


def _imported(lead) -> list[tuple]:
    return [(e.actor_id, e.data) for e in lead_timeline(lead) if e.event_type == "imported"]


def test_each_created_lead_shows_its_import_with_its_upload_and_row_read_from_the_upload(alpha, owner):
    dataset = dataset_create(name="Events")

    _, upload = _import(dataset, _csv([_row(1), _row(2, phone="bad"), _row(3)]), actor=owner)

    leads = Lead.objects.filter(dataset=dataset).order_by("phone_number")
    assert [(lead.phone_number, _imported(lead)) for lead in leads] == [
        ("+447700900001", [(owner.pk, {"upload_id": str(upload.pk), "row": 2, "filename": "leads.csv"})]),
        ("+447700900003", [(owner.pk, {"upload_id": str(upload.pk), "row": 4, "filename": "leads.csv"})]),
    ]
    assert not LeadEvent.objects.filter(event_type="imported").exists()  # no event row per imported lead


def test_the_import_entry_sits_in_time_order_among_the_stored_events(alpha, owner):
    dataset = dataset_create(name="Timeline")
    _import(dataset, _csv([_row(1)]), actor=owner)
    lead = Lead.objects.get(dataset=dataset)
    events.note_added(lead, text="Called, no answer", actor=owner)

    assert [e.event_type for e in lead_timeline(lead)] == ["note", "imported"]
    assert [e.event_type for e in lead_timeline(lead, limit=1)] == ["note"]


def test_it_writes_a_merged_event_for_a_lead_a_row_merges_into(alpha):
    dataset = _with_action(dataset_create(name="Merged events"), CampaignSettings.DuplicateAction.MERGE)
    _import(dataset, _csv([_row(1, email="")]))

    _, upload = _import(dataset, _csv([_row(1)]))

    assert _events("merged") == [("+447700900001", None, {"upload_id": str(upload.pk), "row": 2})]


def test_it_writes_a_suppressed_event_for_a_lead_created_as_removed(alpha):
    Suppression.objects.create(phone_number="+447700900002", source=Suppression.Source.OPT_OUT)
    dataset = dataset_create(name="Suppressed events")

    _import(dataset, _csv([_row(1), _row(2)]))

    assert _events("suppressed") == [
        ("+447700900002", None, {"source": "import", "reason": "number is on the suppression list (opt_out)"})
    ]
