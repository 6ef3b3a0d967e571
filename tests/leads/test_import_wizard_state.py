"""The wizard's state lives in typed Upload fields; `errors` holds only why a file failed."""

import importlib

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.importing.mapping import upload_mapping
from leads.importing.receive import upload_receive
from leads.models import Upload
from leads.services import dataset_create
from tests.leads.test_imports import MAPPING, _csv, _import, _row

HOST = {"HTTP_HOST": "alpha.localhost"}
migration = importlib.import_module("leads.migrations.0005_upload_wizard_fields")


def test_it_records_what_a_received_file_holds(alpha):
    dataset = dataset_create(name="Received")

    upload = upload_receive(
        fileobj=ContentFile(b"Name;Mobile\nAnn;07700 900001\n"), filename="a.csv", uploaded_by=None, dataset=dataset
    )

    assert (upload.headers, upload.encoding, upload.delimiter) == (["Name", "Mobile"], "utf-8", ";")
    assert upload.errors is None and upload.column_mapping is None


def test_the_mapping_step_keeps_the_chosen_mapping_on_the_upload(alpha, owner, client):
    client.force_login(owner)
    upload = upload_receive(
        fileobj=ContentFile(_csv([_row(1)])), filename="a.csv", uploaded_by=owner, dataset=dataset_create(name="Map")
    )
    fields = {"col_0": "first_name", "col_1": "", "col_2": "phone_number"}

    client.post(f"/imports/{upload.pk}/mapping/", fields, **HOST)

    upload.refresh_from_db()
    assert upload.column_mapping == {"First Name": "first_name", "Mobile": "phone_number"}
    assert upload_mapping(upload) == upload.column_mapping and upload.errors is None


def test_without_a_choice_the_mapping_is_the_datasets_saved_one_where_it_fits(alpha):
    dataset = dataset_create(name="Saved mapping")
    dataset.column_mapping = {"Surname": "first_name", "Mobile": "phone_number", "Gone": "notes"}
    dataset.save()

    upload = upload_receive(fileobj=ContentFile(_csv([_row(1)])), filename="a.csv", uploaded_by=None, dataset=dataset)

    assert upload_mapping(upload) == {"Surname": "first_name", "Mobile": "phone_number"}


def test_a_completed_import_keeps_its_summary_apart_from_errors(alpha):
    summary, upload = _import(dataset_create(name="Summary"), _csv([_row(1), _row(2, phone="bad")]))

    upload.refresh_from_db()
    assert upload.summary == summary.as_json() and upload.summary["rejected"] == 1
    assert upload.errors is None


def test_a_failed_file_says_why_in_errors_only(alpha, owner, client):
    client.force_login(owner)

    client.post(
        "/datasets/import/",
        {"new_dataset_name": "Bad", "file": SimpleUploadedFile("leads.csv", b"%PDF-1.4 fake")},
        **HOST,
    )

    upload = Upload.objects.get()
    assert list(upload.errors) == ["file"] and "PDF" in upload.errors["file"]
    assert (upload.headers, upload.column_mapping, upload.summary) == ([], None, None)


def test_the_migration_moves_the_wizard_state_out_of_errors_and_back(alpha):
    old_style = {"headers": ["Mobile"], "encoding": "cp1252", "delimiter": ",", "mapping": MAPPING}
    old_style["summary"] = {"rows": 1}
    moved = Upload.objects.create(filename="a.csv", file_url="x", errors=old_style)
    failed = Upload.objects.create(filename="b.csv", file_url="y", errors={"headers": ["A"], "file": "Broken."})

    migration.move_out_of_errors(apps, None)

    moved.refresh_from_db()
    failed.refresh_from_db()
    assert (moved.headers, moved.encoding, moved.delimiter) == (["Mobile"], "cp1252", ",")
    assert (moved.column_mapping, moved.summary, moved.errors) == (MAPPING, {"rows": 1}, None)
    assert (failed.headers, failed.errors) == (["A"], {"file": "Broken."})

    migration.move_back_into_errors(apps, None)

    moved.refresh_from_db()
    failed.refresh_from_db()
    assert moved.errors == old_style and failed.errors == {"headers": ["A"], "file": "Broken."}
