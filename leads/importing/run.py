"""Run an import: a file staff uploaded becomes leads in a dataset — all of it, or none of it.

Rows are read and judged (in both cores) and staged in a temporary table with COPY (`staging`), duplicates and
suppressed numbers are classified in SQL (`classify`), and one INSERT … SELECT creates the leads, each pointing at
its upload, which is its `imported` timeline entry (`apply`). Everything after the upload is one transaction, so a
failure leaves the dataset as it was; progress lives in Redis so it is visible while that transaction runs.
"""

import csv
import io
import logging
import tempfile
import time
from collections.abc import Callable

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from clients.models import User
from clients.storage import save_client_file
from leads.importing.apply import import_rows_apply
from leads.importing.classify import import_rows_classify
from leads.importing.mapping import validate_mapping
from leads.importing.options import import_settings, row_validator
from leads.importing.progress import progress_set
from leads.importing.reading import ImportFileError, open_table
from leads.importing.receive import upload_local_path
from leads.importing.staging import import_rows_copy, import_rows_create
from leads.importing.summary import ImportSummary
from leads.models import Dataset, Upload

log = logging.getLogger(__name__)


def lead_import(
    *,
    upload: Upload,
    dataset: Dataset,
    mapping: dict[str, str],
    actor: User | None = None,
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Imports an uploaded file into `dataset`. Raises ImportFileError when the file as a whole fails."""
    started = time.monotonic()
    upload.status, upload.started_at, upload.dataset = Upload.Status.PROCESSING, timezone.now(), dataset
    upload.imported_by = actor  # the actor of each created lead's "imported" timeline entry
    upload.save(update_fields=["status", "started_at", "dataset", "imported_by"])
    workers = workers or settings.DBR_IMPORT_WORKERS
    try:
        summary = _import(
            upload=upload, dataset=dataset, mapping=mapping, actor=actor, workers=workers, on_progress=on_progress
        )
    except ImportFileError as exc:
        _fail(upload, str(exc), started)
        raise
    except Exception as exc:
        log.exception("Import of upload %s failed", upload.pk)
        _fail(
            upload,
            f"The import failed and nothing was imported ({type(exc).__name__}: {exc}). "
            "The file is kept; try again or contact support.",
            started,
        )
        raise
    _complete(upload, summary, started)
    return summary


def _complete(upload: Upload, summary: ImportSummary, started: float) -> None:
    upload.status = Upload.Status.COMPLETED
    upload.rows_detected = summary.rows
    upload.rows_imported = summary.created + summary.merged
    upload.summary = summary.as_json()
    upload.completed_at = timezone.now()
    upload.processing_time = round(time.monotonic() - started)
    upload.save()
    progress_set(upload.pk, done=summary.rows, total=summary.rows, phase="completed")


def _fail(upload: Upload, message: str, started: float) -> None:
    upload.status = Upload.Status.FAILED
    upload.errors = {**(upload.errors or {}), "file": message}
    upload.completed_at = timezone.now()
    upload.processing_time = round(time.monotonic() - started)
    upload.save()
    progress_set(upload.pk, done=0, total=upload.rows_detected, phase="failed")


def _import(
    *,
    upload: Upload,
    dataset: Dataset,
    mapping: dict,
    actor: User | None,
    workers: int,
    on_progress: Callable[[int, int], None] | None,
) -> ImportSummary:
    options = import_settings(dataset)
    summary = ImportSummary()
    with upload_local_path(upload) as local, tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as rejected:
        table = open_table(local, filename=upload.filename)
        problems = validate_mapping(mapping, table.headers)
        if problems:
            raise ImportFileError(" ".join(problems))
        total = upload.rows_detected or table.count_rows()
        progress_set(upload.pk, done=0, total=total, phase="reading")
        writer = csv.writer(rejected)
        writer.writerow(["row", *table.headers, "reason"])
        with transaction.atomic():
            import_rows_create()
            import_rows_copy(
                table=table,
                validator=row_validator(headers=table.headers, mapping=mapping, options=options),
                workers=workers,
                summary=summary,
                rejected=writer.writerow,
                report=_reporter(upload, total, on_progress),
            )
            progress_set(upload.pk, done=summary.rows, total=total, phase="saving")
            # Serialises imports into one dataset from here to commit (classification must see committed leads).
            Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
            import_rows_classify(dataset=dataset, duplicate_action=options.duplicate_action)
            import_rows_apply(dataset=dataset, upload=upload, actor=actor, summary=summary)
            dataset.column_mapping = mapping
            dataset.save(update_fields=["column_mapping", "updated_at"])
        if summary.rejected:
            summary.rejected_file = _rejected_rows_keep(rejected, upload)
    return summary


def _rejected_rows_keep(rejected, upload: Upload) -> str:
    """Stores the rejected rows (with their reasons) in the client's exports; returns the path."""
    rejected.seek(0)
    content = File(io.BytesIO(rejected.read().encode("utf-8")))
    return save_client_file("exports", f"rejected-rows-{upload.pk}.csv", content)


def _reporter(upload: Upload, total: int, on_progress: Callable[[int, int], None] | None) -> Callable[[int], None]:
    def report(done: int) -> None:
        progress_set(upload.pk, done=done, total=max(total, done), phase="reading")
        if on_progress:
            on_progress(done, max(total, done))

    return report
