"""The import service on real PostgreSQL: outcomes, duplicates, suppression, atomicity, bad files."""

import csv
import io

import pytest
from django.core.files.base import ContentFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.importing.reading import ImportFileError
from leads.importing.receive import upload_receive
from leads.importing.run import lead_import
from leads.models import CampaignSettings, Dataset, Lead, LeadEvent, Suppression, Upload
from leads.selectors import lead_timeline
from leads.services import dataset_create

HEADER = ["First Name", "Surname", "Mobile", "Email", "Post Code", "Enquiry Date", "Roof"]
MAPPING = {
    "First Name": "first_name",
    "Surname": "last_name",
    "Mobile": "phone_number",
    "Email": "email",
    "Post Code": "postcode",
    "Enquiry Date": "inquiry_date",
}


def _csv(rows, header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _row(n: int, **overrides) -> list[str]:
    values = {
        "first": f"Person{n}",
        "last": "Smith",
        "phone": f"07700 900{n:03d}",
        "email": f"p{n}@example.com",
        "postcode": "ls6 2ab",
        "date": "03/04/2024",
        "roof": "south",
    }
    values.update(overrides)
    return list(values.values())


def _import(dataset, content: bytes, filename="leads.csv", mapping=MAPPING, workers=1, actor=None):
    upload = upload_receive(fileobj=ContentFile(content), filename=filename, uploaded_by=None, dataset=dataset)
    assert upload.status == Upload.Status.MAPPING, upload.errors
    return lead_import(upload=upload, dataset=dataset, mapping=mapping, workers=workers, actor=actor), upload


def _accounts_for_every_row(summary) -> bool:
    return summary.created + summary.merged + summary.skipped + summary.rejected == summary.rows


def test_it_imports_rows_normalised_with_events_and_stats(alpha):
    dataset = dataset_create(name="Import")

    summary, upload = _import(dataset, _csv([_row(1), _row(2)]))

    assert (summary.rows, summary.created, summary.rejected) == (2, 2, 0)
    lead = Lead.objects.get(phone_number="+447700900001")
    assert (lead.first_name, lead.postcode, str(lead.inquiry_date), lead.row_number) == (
        "Person1",
        "LS6 2AB",
        "2024-04-03",
        2,
    )
    assert lead.custom_fields == {"Roof": "south"}
    assert [e.event_type for e in lead_timeline(lead)] == ["imported"]  # read from the upload
    dataset.refresh_from_db()
    assert (dataset.total_leads, dataset.active_leads) == (2, 2)
    assert dataset.column_mapping == MAPPING
    upload.refresh_from_db()
    assert (upload.status, upload.rows_detected, upload.rows_imported) == ("completed", 2, 2)
    assert upload.completed_at and upload.processing_time is not None


def test_it_rejects_bad_rows_with_reasons_in_a_downloadable_csv(alpha):
    from clients.storage import bucket_storage

    dataset = dataset_create(name="Bad rows")
    rows = [_row(1), _row(2, phone="12345"), _row(3, email="bob@"), _row(4, first="")]

    summary, _ = _import(dataset, _csv(rows))

    assert (summary.created, summary.rejected) == (1, 3)
    assert _accounts_for_every_row(summary)
    rejected = list(csv.reader(io.StringIO(bucket_storage("exports").open(summary.rejected_file).read().decode())))
    assert rejected[0][-1] == "reason" and len(rejected) == 4
    assert any("12345" in line for line in map(",".join, rejected))


def test_importing_the_same_file_twice_creates_nothing_new(alpha):
    dataset = dataset_create(name="Twice")
    content = _csv([_row(n) for n in range(1, 6)])
    _import(dataset, content)

    again, _ = _import(dataset, content)

    assert (again.created, again.skipped) == (0, 5)
    assert {d["reason"] for d in again.details["skipped"]} == {"already in this dataset"}
    assert Lead.objects.filter(dataset=dataset).count() == 5


def test_it_skips_a_number_repeated_in_the_file(alpha):
    dataset = dataset_create(name="Repeated")

    summary, _ = _import(dataset, _csv([_row(1), _row(2), _row(3, phone="+44 7700 900001")]))

    assert (summary.created, summary.skipped) == (2, 1)
    assert summary.details["skipped"][0] == {"row": 4, "phone": "+447700900001", "reason": "duplicate of row 2"}


def _with_action(dataset: Dataset, action: str) -> Dataset:
    # Only a name and a phone are required here, so rows with gaps exist to be merged into.
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(
        duplicate_action=action, required_fields=["first_name", "phone_number"]
    )
    dataset.refresh_from_db()
    return dataset


def test_merge_fills_empty_fields_of_the_existing_lead(alpha):
    dataset = _with_action(dataset_create(name="Merge"), "merge")
    _import(dataset, _csv([_row(1, email="", last="")]))

    summary, _ = _import(dataset, _csv([_row(1, email="new@example.com", last="Jones", first="Other")]))

    lead = Lead.objects.get(dataset=dataset)
    assert (summary.created, summary.merged) == (0, 1)
    assert (lead.first_name, lead.last_name, lead.email) == ("Person1", "Jones", "new@example.com")
    assert LeadEvent.objects.filter(lead=lead, event_type="merged").exists()


def test_merge_folds_repeats_inside_the_file(alpha):
    dataset = _with_action(dataset_create(name="Merge in file"), "merge")

    summary, _ = _import(dataset, _csv([_row(1, email=""), _row(1, email="late@example.com", roof="west")]))

    assert (summary.created, summary.merged) == (1, 1)
    lead = Lead.objects.get(dataset=dataset)
    assert lead.email == "late@example.com" and lead.custom_fields == {"Roof": "south"}


@pytest.mark.parametrize(
    "action, created, skipped, merged, flagged",
    [
        ("flag", 1, 0, 0, 1),
        ("skip", 0, 1, 0, 0),
        ("merge", 0, 0, 1, 0),
        ("keep_both", 1, 0, 0, 0),
    ],
)
def test_the_duplicate_action_decides_for_numbers_in_other_datasets(alpha, action, created, skipped, merged, flagged):
    first = _with_action(dataset_create(name="First"), "flag")
    _import(first, _csv([_row(1, email="")]))
    second = _with_action(dataset_create(name="Second"), action)

    summary, _ = _import(second, _csv([_row(1)]))

    assert (summary.created, summary.skipped, summary.merged, summary.flagged_duplicates) == (
        created,
        skipped,
        merged,
        flagged,
    )
    original = Lead.objects.get(dataset=first)
    if action == "flag":
        copy = Lead.objects.get(dataset=second)
        assert copy.is_duplicate and copy.duplicate_of_id == original.pk
    if action == "merge":
        assert original.email == "p1@example.com"
    if action == "skip":
        assert summary.details["skipped"][0]["reason"] == 'already in dataset "First"'


def test_a_suppressed_number_is_created_as_removed(alpha):
    Suppression.objects.create(phone_number="+447700900002", source="opt_out")
    dataset = dataset_create(name="Suppressed")

    summary, _ = _import(dataset, _csv([_row(1), _row(2)]))

    assert summary.suppressed == 1
    assert Lead.objects.get(phone_number="+447700900002").contact_status == "REMOVED"
    assert Lead.objects.get(phone_number="+447700900001").contact_status == "READY"


def test_a_landline_is_created_but_cannot_receive_sms(alpha):
    dataset = dataset_create(name="Landline")

    summary, _ = _import(dataset, _csv([_row(1, phone="020 7946 0123"), _row(2, phone="0113 496 0000")]))

    assert summary.created == 2 and summary.not_sms_capable == 2
    assert not Lead.objects.filter(sms_capable=True).filter(dataset=dataset).exists()
    assert all(lead.sms_capable_reason for lead in Lead.objects.filter(dataset=dataset))


def test_a_failure_part_way_leaves_the_dataset_as_it_was(alpha, monkeypatch):
    dataset = dataset_create(name="Atomic")
    _import(dataset, _csv([_row(1)]))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("leads.importing.run.import_rows_apply", boom)
    upload = upload_receive(
        fileobj=ContentFile(_csv([_row(2), _row(3)])), filename="b.csv", uploaded_by=None, dataset=dataset
    )
    with pytest.raises(RuntimeError):
        lead_import(upload=upload, dataset=dataset, mapping=MAPPING, workers=1)

    assert list(Lead.objects.filter(dataset=dataset).values_list("phone_number", flat=True)) == ["+447700900001"]
    upload.refresh_from_db()
    assert upload.status == "failed" and "nothing was imported" in upload.errors["file"]
    dataset.refresh_from_db()
    assert dataset.total_leads == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (_csv([]), "no leads"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image"),
        (bytes(range(256)) * 40, ""),
    ],
)
def test_a_file_that_cannot_be_imported_fails_with_a_clear_message(alpha, content, message):
    dataset = dataset_create(name="Bad file")

    upload = upload_receive(fileobj=ContentFile(content), filename="leads.csv", uploaded_by=None, dataset=dataset)

    assert upload.status == "failed"
    assert message.lower() in upload.errors["file"].lower() and len(upload.errors["file"]) > 15
    assert Lead.objects.filter(dataset=dataset).count() == 0


def test_a_mapping_naming_a_missing_column_fails_clearly(alpha):
    dataset = dataset_create(name="Missing column")
    upload = upload_receive(fileobj=ContentFile(_csv([_row(1)])), filename="a.csv", uploaded_by=None, dataset=dataset)

    with pytest.raises(ImportFileError, match="Phone"):
        lead_import(upload=upload, dataset=dataset, mapping={"Phone": "phone_number"}, workers=1)

    upload.refresh_from_db()
    assert upload.status == "failed"


def test_it_keeps_long_fields_and_any_script(alpha):
    dataset = dataset_create(name="Unicode")
    rows = [_row(1, first="王秀英", last="Ŵyn-Llŷr 🌞"), _row(2, roof="x" * 10_000)]

    summary, _ = _import(dataset, _csv(rows))

    assert summary.created == 2
    assert Lead.objects.get(phone_number="+447700900001").last_name == "Ŵyn-Llŷr 🌞"
    assert len(Lead.objects.get(phone_number="+447700900002").custom_fields["Roof"]) == 10_000


def test_two_workers_give_the_same_result(alpha):
    dataset = dataset_create(name="Parallel")
    rows = [_row(n % 700, phone=("bad" if n % 13 == 0 else f"07700 900{n % 700:03d}")) for n in range(3000)]

    summary, _ = _import(dataset, _csv(rows), workers=2)

    assert summary.rows == 3000 and _accounts_for_every_row(summary)
    assert summary.created == Lead.objects.filter(dataset=dataset).count()


phones = st.one_of(
    st.integers(0, 30).map(lambda n: f"07700 900{n:03d}"),
    st.integers(0, 30).map(lambda n: f"+447700900{n:03d}"),
    st.sampled_from(["", "12345", "not a number", "020 7946 0001", "+33 6 12 34 56 78"]),
)
rows = st.lists(st.tuples(phones, st.sampled_from(["Ann", ""]), st.sampled_from(["a@b.com", "", "bad@"])), max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=rows, second=rows, action=st.sampled_from(["flag", "skip", "merge", "keep_both"]))
def test_every_row_is_accounted_for(alpha, first, second, action):
    from django.db import transaction

    with transaction.atomic():
        one = dataset_create(name="Property one")
        two = _with_action(dataset_create(name="Property two"), action)
        CampaignSettings.objects.filter(datasets__in=[one, two]).update(required_fields=["phone_number"])
        header = ["Mobile", "First Name", "Email"]
        mapping = {"Mobile": "phone_number", "First Name": "first_name", "Email": "email"}
        for dataset, data in ((one, first), (two, second), (two, first)):
            data = [r for r in data if any(r)]  # blank lines are not rows
            if not data:
                continue
            summary, _ = _import(dataset, _csv([list(r) for r in data], header=header), mapping=mapping)
            assert summary.rows == len(data)
            assert _accounts_for_every_row(summary), summary
        transaction.set_rollback(True)
