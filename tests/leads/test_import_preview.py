"""The wizard's preview counts what the import rejects: the same checks, on a sample it names as one."""

from django.core.files.base import ContentFile

from leads.importing.preview import import_preview
from leads.importing.receive import upload_receive, upload_rows_count
from leads.importing.run import lead_import
from leads.services import dataset_create
from tests.leads.test_imports import MAPPING, _csv, _row

HOST = {"HTTP_HOST": "alpha.localhost"}


def _messy_file() -> bytes:
    rows = [_row(n) for n in range(1, 6)]
    rows += [_row(n, phone="not a phone") for n in range(6, 10)]  # invalid numbers
    rows += [_row(10, email="nobody@"), _row(11, first=""), _row(12, phone="01632 960")]
    rows += [_row(13, date="someday"), [*_row(14), "extra", "cells"]]
    return _csv(rows)


def test_it_counts_the_rows_the_import_rejects(alpha):
    dataset = dataset_create(name="Messy")
    upload = upload_receive(fileobj=ContentFile(_messy_file()), filename="messy.csv", uploaded_by=None, dataset=dataset)

    preview = import_preview(upload=upload, dataset=dataset, mapping=MAPPING)
    summary = lead_import(upload=upload, dataset=dataset, mapping=MAPPING, workers=1)

    assert summary.rejected == 8  # the unrecognised date is kept as a custom field
    assert (preview["rejected"], preview["accepted"], preview["sample"]) == (summary.rejected, 6, False)
    reasons = dict(preview["reasons"])
    assert reasons["Phone number not valid"] == 5 and reasons["Email address not valid"] == 1


def test_it_says_when_it_counted_a_sample(alpha, owner, client):
    dataset = dataset_create(name="Large")
    rows = [_row(n) for n in range(1, 31)] + [_row(n, phone="junk") for n in range(31, 61)]
    upload = upload_receive(fileobj=ContentFile(_csv(rows)), filename="large.csv", uploaded_by=None, dataset=dataset)

    preview = import_preview(upload=upload, dataset=dataset, mapping=MAPPING, scan=40)
    assert (preview["scanned"], preview["total"], preview["sample"]) == (40, None, True)  # not counted yet

    upload_rows_count(upload=upload)  # the worker's count
    upload.refresh_from_db()
    preview = import_preview(upload=upload, dataset=dataset, mapping=MAPPING, scan=40)

    assert (preview["scanned"], preview["total"], preview["sample"]) == (40, 60, True)
    assert preview["rejected"] == 10

    upload.column_mapping = MAPPING
    upload.save()
    client.force_login(owner)
    page = client.get(f"/imports/{upload.pk}/preview/", **HOST).content.decode()
    assert "Of all 60 rows" in page and "30 would be rejected" in page
