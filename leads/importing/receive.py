"""The uploaded file: kept per client, read once to record what it holds, opened again by each later step."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.files import File
from django.db import transaction

from clients.models import User
from clients.storage import bucket_storage, save_client_file
from leads.importing.reading import ImportFileError, open_table
from leads.models import Dataset, Upload
from leads.services import dataset_create

FILE_TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def upload_receive(*, fileobj, filename: str, uploaded_by: User | None, dataset: Dataset | None = None) -> Upload:
    """Keeps the original file (per client) and records what it holds; a bad file is `failed`, not lost."""
    path = save_client_file("csv_uploads", filename, File(fileobj, name=filename))
    size = bucket_storage("csv_uploads").size(path)
    upload = Upload.objects.create(
        filename=filename,
        file_url=path,
        file_size=size,
        uploaded_by=uploaded_by,
        dataset=dataset,
        status=Upload.Status.PENDING,
    )
    try:
        with upload_local_path(upload) as local:
            table = open_table(local, filename=filename)
            upload.file_type = FILE_TYPES[table.kind]
        upload.status = Upload.Status.MAPPING
        upload.headers, upload.encoding, upload.delimiter = table.headers, table.encoding, table.delimiter
    except ImportFileError as exc:
        upload.status = Upload.Status.FAILED
        upload.errors = {"file": str(exc)}
    upload.save()
    return upload


def upload_start(
    *, fileobj, filename: str, uploaded_by: User | None, dataset: Dataset | None, new_dataset_name: str = ""
) -> Upload:
    """The wizard's first step: a new dataset is created only once its file is accepted (no empty drafts)."""
    upload = upload_receive(fileobj=fileobj, filename=filename, uploaded_by=uploaded_by, dataset=dataset)
    if dataset is None and upload.status != Upload.Status.FAILED:
        with transaction.atomic():
            upload.dataset = dataset_create(name=new_dataset_name, uploaded_by=uploaded_by, source="CSV Upload")
            upload.save(update_fields=["dataset"])
    return upload


def upload_rows_count(*, upload: Upload) -> Upload:
    """Counts the rows of a received file: whole-file work, so a worker's (leads.tasks), never a web request's."""
    try:
        with upload_local_path(upload) as local:
            upload.rows_detected = open_table(local, filename=upload.filename).count_rows()
    except ImportFileError as exc:
        upload.status = Upload.Status.FAILED
        upload.errors = {"file": str(exc)}
        Upload.objects.filter(pk=upload.pk, status=Upload.Status.MAPPING).update(
            status=upload.status, errors=upload.errors
        )
        return upload
    Upload.objects.filter(pk=upload.pk).update(rows_detected=upload.rows_detected)
    return upload


def upload_mapping_set(*, upload: Upload, mapping: dict[str, str]) -> Upload:
    """Records the column mapping staff chose in the wizard, for its preview and its import."""
    upload.column_mapping = mapping
    upload.save(update_fields=["column_mapping"])
    return upload


@contextmanager
def upload_local_path(upload: Upload) -> Iterator[str]:
    """A local path for the stored file (a temporary copy when storage is remote)."""
    storage = bucket_storage("csv_uploads")
    try:
        yield storage.path(upload.file_url)
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(suffix=os.path.splitext(upload.filename)[1]) as copy:
        with storage.open(upload.file_url, "rb") as source:
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                copy.write(chunk)
        copy.flush()
        yield copy.name
