"""Retention (docs/security.md §6): uploaded files and exports are deleted after
DBR_FILE_RETENTION_DAYS; the upload row and the dataset keep their figures, and the row says
when its file expired."""

from datetime import datetime, timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.db import connection

from clients.storage import bucket_storage, client_prefix
from leads.models import Upload


def files_expire(*, at: datetime) -> int:
    """Deletes the current client's uploads and exports older than the retention period; returns how many."""
    cutoff = at - timedelta(days=settings.DBR_FILE_RETENTION_DAYS)
    uploads = bucket_storage("csv_uploads")
    count = 0
    for upload in Upload.objects.filter(created_at__lt=cutoff, file_expired_at=None):
        if upload.file_url and uploads.exists(upload.file_url):
            uploads.delete(upload.file_url)
            count += 1
        Upload.objects.filter(pk=upload.pk).update(file_expired_at=at)
    exports = bucket_storage("exports")
    for path in files_under(exports, client_prefix(connection.schema_name)):
        if exports.get_modified_time(path) < cutoff:
            exports.delete(path)
            count += 1
    return count


def files_under(storage, folder: str):
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        yield str(PurePosixPath(folder) / name)
    for name in folders:
        yield from files_under(storage, str(PurePosixPath(folder) / name))
