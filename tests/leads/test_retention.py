"""Retention: uploads and exports are deleted after DBR_FILE_RETENTION_DAYS; the figures stay."""

import io
import os
import time
from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from clients.storage import bucket_storage, save_client_file
from leads.importing.receive import upload_receive
from leads.models import Upload
from leads.retention import files_expire
from leads.services import dataset_create


def _aged(storage, path: str, days: int) -> None:
    then = time.time() - days * 86400
    os.utime(storage.path(path), (then, then))


def test_it_deletes_files_past_the_retention_period_and_keeps_the_figures(alpha, owner, settings):
    settings.DBR_FILE_RETENTION_DAYS = 90
    now = timezone.now()
    dataset = dataset_create(name="Kept")
    old, new = (
        upload_receive(
            fileobj=io.BytesIO(b"First Name,Mobile\nAnn,07700900001\n"),
            filename="l.csv",
            uploaded_by=owner,
            dataset=dataset,
        )
        for _ in range(2)
    )
    Upload.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=91), rows_imported=1)
    exports = bucket_storage("exports")
    stale = save_client_file("exports", "leads.csv", ContentFile(b"phone\n"), owner=owner)
    fresh = save_client_file("exports", "leads.csv", ContentFile(b"phone\n"), owner=owner)
    _aged(exports, stale, days=91)

    assert files_expire(at=now) == 2

    old.refresh_from_db()
    new.refresh_from_db()
    uploads = bucket_storage("csv_uploads")
    assert old.file_expired_at == now and old.rows_imported == 1 and not uploads.exists(old.file_url)
    assert new.file_expired_at is None and uploads.exists(new.file_url)
    assert not exports.exists(stale) and exports.exists(fresh)
    assert files_expire(at=now) == 0
