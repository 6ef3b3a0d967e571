import logging

from celery import shared_task
from django.utils import timezone

from clients.models import User
from clients.queue import enqueue, in_each_busy_client, in_each_ready_client
from leads.importing.reading import ImportFileError
from leads.importing.run import lead_import
from leads.models import Dataset, Upload
from leads.outbound import deliveries_due, deliveries_due_exist, webhook_delivery_attempt
from leads.services import dataset_stats_recount

log = logging.getLogger(__name__)
BATCH = 50  # deliveries tried per client task (5 s each at worst); the next beat takes the rest


@shared_task(ignore_result=True)
def recount_dataset_stats(dataset_id: str) -> None:
    dataset_stats_recount(dataset_id=dataset_id)


@shared_task(ignore_result=True, time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60)
def import_upload(upload_id: str, dataset_id: str, mapping: dict, actor_id: str | None = None) -> None:
    """Runs an import queued by the wizard; failures are recorded on the Upload for staff to see."""
    upload = Upload.objects.get(pk=upload_id)
    dataset = Dataset.objects.get(pk=dataset_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    try:
        lead_import(upload=upload, dataset=dataset, mapping=mapping, actor=actor)
    except ImportFileError:
        pass  # recorded on the upload with the reason


@shared_task(ignore_result=True)
def sweep_imports_all() -> int:
    """Beat (public schema): re-queues uploads left processing with no worker on them (broker down, worker killed)."""
    from leads.importing.queueing import uploads_stuck_requeue

    count = 0
    for _client in in_each_busy_client():
        count += uploads_stuck_requeue(at=timezone.now())
    return count


@shared_task(ignore_result=True, time_limit=3600, soft_time_limit=3540)
def count_upload_rows(upload_id: str) -> None:
    from leads.importing.receive import upload_rows_count

    upload = Upload.objects.filter(pk=upload_id).first()
    if upload is not None:
        upload_rows_count(upload=upload)


@shared_task(ignore_result=True, time_limit=3600, soft_time_limit=3540)
def expire_files_all() -> int:
    """Beat (public schema), hourly: every client's uploads and exports past the retention period."""
    from leads.retention import files_expire

    count = 0
    for _client in in_each_ready_client():
        count += files_expire(at=timezone.now())
    return count


@shared_task(ignore_result=True, time_limit=60, soft_time_limit=45)
def deliver_webhook(delivery_id: str) -> None:
    outcome = webhook_delivery_attempt(delivery_id=delivery_id, at=timezone.now())
    log.info("Webhook delivery %s: %s", delivery_id, outcome.word)


@shared_task(ignore_result=True)
def webhooks_due_all() -> int:
    """Beat (public schema), every 30 s: a task for each ready client with an outbound event due (first
    tries whose queued task was lost, and retries)."""
    count = 0
    for _client in in_each_busy_client():
        if deliveries_due_exist(at=timezone.now()):
            enqueue(webhooks_due_client, after_commit=False)
            count += 1
    return count


@shared_task(ignore_result=True, time_limit=600, soft_time_limit=570)
def webhooks_due_client() -> int:
    due = list(deliveries_due(at=timezone.now()).order_by("created_at").values_list("pk", flat=True)[:BATCH])
    for delivery_id in due:
        try:
            webhook_delivery_attempt(delivery_id=delivery_id, at=timezone.now())
        except Exception:
            # The lease runs out and the next beat tries again; one bad row must not hold up the rest.
            log.exception("Webhook delivery %s failed", delivery_id)
    return len(due)


@shared_task(ignore_result=True, time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60)
def bulk_job(
    job_id: str, action: str, actor_id: str, query_string: str, ids: list[str] | None, assignee_id: str | None = None
) -> None:
    """A bulk action too big for a request (leads.bulk): runs it in batches, its progress in Redis."""
    from leads.bulk import BULK_ACTIONS, bulk_apply, bulk_leads, bulk_progress_set

    actor = User.objects.get(pk=actor_id)
    params = {"assignee": User.objects.get(pk=assignee_id)} if assignee_id else {}
    bulk_progress_set(job_id, phase="running")
    try:
        changed = bulk_apply(
            BULK_ACTIONS[action],
            leads=bulk_leads(actor, query_string=query_string, ids=ids),
            actor=actor,
            at=timezone.now(),
            params=params,
            progress=lambda done: bulk_progress_set(job_id, done=done),
        )
    except Exception as exc:
        log.exception("Bulk job %s (%s) failed", job_id, action)
        bulk_progress_set(job_id, phase="failed", error=str(exc)[:300])
        raise
    bulk_progress_set(job_id, phase="done", changed=changed)


@shared_task(ignore_result=True, time_limit=3 * 3600, soft_time_limit=3 * 3600 - 60)
def export_job(job_id: str, actor_id: str, query_string: str, filename: str, ids: list[str] | None = None) -> None:
    """An export of more leads than a request should stream (leads.exports): the file is written to the
    client's exports, and the progress page links to it when done."""
    from django.http import QueryDict

    from leads.bulk import bulk_progress_set
    from leads.exports import export_save
    from leads.table import table_export_leads, table_query_parse

    actor = User.objects.get(pk=actor_id)
    bulk_progress_set(job_id, phase="running")
    try:
        path = export_save(
            table_export_leads(actor, table_query_parse(QueryDict(query_string)), ids),
            filename=filename,
            owner=actor,
            progress=lambda done: bulk_progress_set(job_id, done=done),
        )
    except Exception as exc:
        log.exception("Export job %s failed", job_id)
        bulk_progress_set(job_id, phase="failed", error=str(exc)[:300])
        raise
    bulk_progress_set(job_id, phase="done", file=path)
