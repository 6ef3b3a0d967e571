"""Handing an import to a worker, and finding imports a worker never took (docs/security.md §2).

The task is published before the upload says "processing", so a broker outage leaves the upload
in the wizard to be run again; the sweep re-queues any upload left processing with no worker on it.
"""

from datetime import datetime, timedelta

from django.db.models import Q

from clients.queue import enqueue
from leads.importing.mapping import upload_mapping
from leads.models import Upload

# A queued import no worker started; a started one past the task's 3-hour limit (leads.tasks).
NOT_STARTED_AFTER = timedelta(minutes=10)
NOT_FINISHED_AFTER = timedelta(hours=3, minutes=15)


def upload_import_queue(*, upload: Upload, at: datetime, actor_id: str | None) -> bool:
    """Queues the import of an upload in the wizard; False (and the upload unchanged) when the broker is down."""
    from leads.tasks import import_upload

    mapping = upload_mapping(upload)
    published = enqueue(import_upload, str(upload.pk), str(upload.dataset_id), mapping, actor_id, after_commit=False)
    if published:
        # The worker may have started already (it sets processing itself): only a waiting upload changes.
        Upload.objects.filter(pk=upload.pk, status=Upload.Status.MAPPING).update(
            status=Upload.Status.PROCESSING, queued_at=at
        )
        Upload.objects.filter(pk=upload.pk, queued_at=None).update(queued_at=at)
    return bool(published)


def uploads_stuck(*, at: datetime):
    return Upload.objects.filter(status=Upload.Status.PROCESSING, dataset__isnull=False).filter(
        Q(started_at=None, queued_at__lt=at - NOT_STARTED_AFTER)
        | Q(started_at=None, queued_at=None)
        | Q(started_at__lt=at - NOT_FINISHED_AFTER)
    )


def uploads_stuck_requeue(*, at: datetime) -> int:
    """Queues again every upload left processing with no worker on it; returns how many."""
    from leads.tasks import import_upload

    count = 0
    for upload in uploads_stuck(at=at):
        actor_id = str(upload.uploaded_by_id) if upload.uploaded_by_id else None
        args = (str(upload.pk), str(upload.dataset_id), upload_mapping(upload), actor_id)
        if enqueue(import_upload, *args, after_commit=False):
            Upload.objects.filter(pk=upload.pk).update(queued_at=at, started_at=None)
            count += 1
    return count
