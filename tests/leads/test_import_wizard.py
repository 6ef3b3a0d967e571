"""The upload wizard end to end through Django's test client, the command, exports and opt-out lists."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from dbr.celery import app as celery_app
from leads.models import Dataset, Lead, Suppression, Upload
from leads.services import dataset_create
from tests.leads.test_imports import _csv, _row

HOST = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def eager_celery():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_the_wizard_imports_a_file_end_to_end(alpha, owner, client, eager_celery, django_capture_on_commit_callbacks):
    client.force_login(owner)
    content = _csv([_row(1), _row(2), _row(3, phone="nope")])

    # file: a new dataset; its rows are counted by the worker (eager here)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/datasets/import/",
            {
                "new_dataset_name": "Spring 2024",
                "file": SimpleUploadedFile("export.csv", content, "application/octet-stream"),
            },
            **HOST,
        )
    upload = Upload.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{upload.pk}/mapping/"
    assert upload.dataset.name == "Spring 2024" and upload.rows_detected == 3

    # mapping: guessed from the headers, saved
    page = client.get(f"/imports/{upload.pk}/mapping/", **HOST)
    assert b'value="phone_number" selected' in page.content
    fields = {
        f"col_{i}": f
        for i, f in enumerate(["first_name", "last_name", "phone_number", "email", "postcode", "inquiry_date", ""])
    }
    assert client.post(f"/imports/{upload.pk}/mapping/", fields, **HOST).status_code == 302

    # preview: row verdicts and per-field rejection counts; make email optional for this dataset
    preview = client.get(f"/imports/{upload.pk}/preview/", **HOST).content.decode()
    assert "Rejected" in preview and "+447700900001" in preview
    client.post(f"/imports/{upload.pk}/preview/", {"required": ["first_name", "last_name"]}, **HOST)
    assert Dataset.objects.get(name="Spring 2024").campaign_settings.required_fields == [
        "first_name",
        "last_name",
        "phone_number",
    ]

    # import (the task runs eagerly after commit) and result
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{upload.pk}/run/", **HOST)
    result = client.get(f"/imports/{upload.pk}/", **HOST).content.decode()
    upload.refresh_from_db()
    assert upload.status == "completed", upload.errors
    assert "Download the rejected rows" in result
    assert Lead.objects.filter(dataset__name="Spring 2024").count() == 2


def test_the_progress_partial_polls_while_processing(alpha, owner, client):
    from leads.importing.progress import progress_set

    client.force_login(owner)
    dataset = dataset_create(name="Polling")
    upload = Upload.objects.create(
        filename="x.csv", file_url="alpha/x/x.csv", status="processing", dataset=dataset, rows_detected=10_000
    )
    progress_set(upload.pk, done=2500, total=10_000, phase="reading")

    response = client.get(f"/imports/{upload.pk}/", HTTP_HX_REQUEST="true", **HOST)

    body = response.content.decode()
    assert 'hx-trigger="every 1s"' in body and "2500 of 10000" in body and 'value="25"' in body
    assert "<html" not in body


def test_the_wizard_explains_a_bad_file(alpha, owner, client):
    client.force_login(owner)

    response = client.post(
        "/datasets/import/",
        {"new_dataset_name": "Bad", "file": SimpleUploadedFile("leads.csv", b"%PDF-1.4 fake", "text/csv")},
        **HOST,
    )

    assert response.status_code == 200
    assert "PDF" in response.content.decode()


def test_a_sales_rep_cannot_import(alpha, teammate, client):
    client.force_login(teammate)

    assert client.get("/datasets/import/", **HOST).status_code == 403


def test_import_leads_command_creates_the_dataset_and_prints_the_summary(alpha, tmp_path, capsys):
    path = tmp_path / "leads.csv"
    path.write_bytes(_csv([_row(1), _row(2, phone="bad")]))

    call_command("import_leads", "--client", "alpha", "--dataset", "From the CLI", str(path))

    out = capsys.readouterr().out
    assert "'Mobile' -> phone_number" in out
    assert "1 created" in out and "1 rejected" in out
    assert Dataset.objects.get(name="From the CLI").total_leads == 1


def test_import_leads_command_fails_with_exit_1_on_a_bad_file(alpha, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(b"")

    with pytest.raises(CommandError, match="empty"):
        call_command("import_leads", "--client", "alpha", "--dataset", "Empty", str(path))


def test_import_leads_command_refuses_a_mapping_with_a_missing_column(alpha, tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes(_csv([_row(1)]))

    with pytest.raises(CommandError, match="Telephone"):
        call_command(
            "import_leads",
            "--client",
            "alpha",
            "--dataset",
            "Mapped",
            str(path),
            "--mapping",
            '{"Telephone": "phone_number"}',
        )


def test_the_export_streams_csv_with_formulas_neutralised(alpha, owner, client):
    client.force_login(owner)
    dataset = dataset_create(name="Export me")
    Lead.objects.create(
        dataset=dataset,
        first_name='=HYPERLINK("http://x")',
        phone_number="+447700900001",
        custom_fields={"Roof": "@SUM(A1)"},
    )

    response = client.get(f"/leads/export/?dataset={dataset.pk}", **HOST)

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][0] == "first_name" and "custom.Roof" in rows[0]
    assert rows[1][0].startswith("'=") and "'@SUM(A1)" in rows[1]
    assert rows[1][2] == "+447700900001"  # a phone number is data, not a formula


def test_the_export_guards_only_what_could_run(alpha):
    from leads.exports import neutralise

    assert [neutralise(v) for v in ("+447700900001", "-5", "+44 7700 900001", "-1.5", "Ó Briain")] == [
        "+447700900001",
        "-5",
        "+44 7700 900001",
        "-1.5",
        "Ó Briain",
    ]
    assert [neutralise(v) for v in ("=1+2", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1")] == [
        "'=1+2",
        "'+1+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1)",
        "'\t=1",
    ]


def test_the_export_for_excel_starts_with_a_byte_order_mark(alpha, owner, client):
    client.force_login(owner)
    dataset = dataset_create(name="Irish")
    Lead.objects.create(dataset=dataset, first_name="Ó Briain", phone_number="+447700900001")

    plain = b"".join(client.get(f"/leads/export/?dataset={dataset.pk}", **HOST).streaming_content)
    excel = b"".join(client.get(f"/leads/export/?dataset={dataset.pk}&bom=1", **HOST).streaming_content)

    assert not plain.startswith(b"\xef\xbb\xbf")
    assert excel.startswith(b"\xef\xbb\xbf") and "Ó Briain" in excel.decode("utf-8-sig")
    assert excel[3:] == plain


def test_an_opt_out_list_suppresses_numbers_and_removes_leads(alpha, owner, client):
    client.force_login(owner)
    dataset = dataset_create(name="Opt outs")
    lead = Lead.objects.create(dataset=dataset, first_name="Ann", phone_number="+447700900001")
    content = b"Phone\n07700 900001\n+447700900002\nnot a number\n"

    client.post("/suppressions/", {"upload": "1", "file": SimpleUploadedFile("optouts.csv", content)}, **HOST)

    assert set(Suppression.objects.values_list("phone_number", "source")) == {
        ("+447700900001", "import"),
        ("+447700900002", "import"),
    }
    lead.refresh_from_db()
    assert lead.contact_status == "REMOVED"


def test_staff_add_and_remove_a_suppressed_number_with_a_reason(alpha, owner, client):
    client.force_login(owner)

    client.post("/suppressions/", {"add": "1", "phone_number": "07700 900123", "reason": "Asked on the phone"}, **HOST)
    suppression = Suppression.objects.get()
    assert (suppression.phone_number, suppression.source, suppression.reason) == (
        "+447700900123",
        "staff",
        "Asked on the phone",
    )
    bad = client.post("/suppressions/", {"add": "1", "phone_number": "123"}, **HOST)
    assert b"field-error" in bad.content

    client.post(f"/suppressions/{suppression.pk}/delete/", **HOST)
    assert not Suppression.objects.exists()


def test_a_file_over_the_size_limit_is_refused_with_the_limit(alpha, owner, client, settings):
    settings.DBR_MAX_UPLOAD_MB = 1
    client.force_login(owner)
    big = _csv([_row(n % 1000, roof="x" * 200) for n in range(6000)])
    assert len(big) > 1024 * 1024

    response = client.post(
        "/datasets/import/", {"new_dataset_name": "Huge", "file": SimpleUploadedFile("huge.csv", big)}, **HOST
    )

    assert "the limit is 1 MB" in response.content.decode()
    assert not Upload.objects.exists() and not Dataset.objects.filter(name="Huge").exists()


def test_a_file_with_no_phone_column_asks_which_column_holds_it(alpha, owner, client):
    client.force_login(owner)
    content = b"Name,Town\nAnn,Leeds\n"
    client.post(
        "/datasets/import/",
        {"new_dataset_name": "No phone", "file": SimpleUploadedFile("nophone.csv", content)},
        **HOST,
    )
    upload = Upload.objects.get()

    response = client.post(f"/imports/{upload.pk}/mapping/", {"col_0": "first_name", "col_1": ""}, **HOST)

    assert response.status_code == 200
    assert "Choose the column that holds the phone number" in response.content.decode()


def test_a_refused_file_creates_no_dataset_and_the_name_stays_free(alpha, owner, client):
    client.force_login(owner)
    bad = SimpleUploadedFile("leads.csv", b"%PDF-1.4 fake", "text/csv")

    client.post("/datasets/import/", {"new_dataset_name": "Spring", "file": bad}, **HOST)

    assert not Dataset.objects.filter(name="Spring").exists()
    good = SimpleUploadedFile("leads.csv", _csv([_row(1)]), "text/csv")
    response = client.post("/datasets/import/", {"new_dataset_name": "Spring", "file": good}, **HOST)
    assert response.status_code == 302
    assert Upload.objects.get(status="mapping").dataset.name == "Spring"
