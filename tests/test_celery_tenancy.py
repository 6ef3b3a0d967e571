"""A task queued in a client's context runs in that client's schema, on a real worker."""

import time
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from clients.queue import enqueue
from leads.models import Dataset, Lead
from leads.services import dataset_create
from leads.tasks import recount_dataset_stats


def _dataset_with_wrong_stats(client, name: str) -> Dataset:
    with schema_context(client.schema_name):
        dataset = dataset_create(name=name)
        Lead.objects.create(dataset=dataset, first_name="Ann", phone_number="+447700900001")
        Dataset.objects.filter(pk=dataset.pk).update(total_leads=99)  # stale on purpose
        return dataset


def _wait_for_total(client, dataset_id, expected: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while True:
        with schema_context(client.schema_name):
            total = Dataset.objects.get(pk=dataset_id).total_leads
        if total == expected or time.monotonic() > deadline:
            return total
        time.sleep(0.2)


def test_it_runs_a_task_in_the_schema_it_was_queued_from(tenants, celery_worker_process):
    alpha, beta = tenants["alpha"], tenants["beta"]
    in_alpha = _dataset_with_wrong_stats(alpha, "Same name")
    in_beta = _dataset_with_wrong_stats(beta, "Same name")

    with schema_context(alpha.schema_name):
        recount_dataset_stats.delay(str(in_alpha.pk))

    assert _wait_for_total(alpha, in_alpha.pk, 1) == 1
    with schema_context(beta.schema_name):
        assert Dataset.objects.get(pk=in_beta.pk).total_leads == 99


def test_it_keeps_the_schema_when_queued_on_commit(tenants, celery_worker_process):
    alpha, beta = tenants["alpha"], tenants["beta"]
    in_beta = _dataset_with_wrong_stats(beta, "Queued on commit")

    with transaction.atomic():
        connection.set_tenant(beta)
        enqueue(recount_dataset_stats, str(in_beta.pk))
        # The connection moves on before the commit sends the task.
        connection.set_tenant(alpha)

    assert _wait_for_total(beta, in_beta.pk, 1) == 1


def test_it_keeps_the_schema_of_a_task_queued_now_with_an_eta(tenants, celery_worker_process):
    alpha, beta = tenants["alpha"], tenants["beta"]
    in_alpha = _dataset_with_wrong_stats(alpha, "Queued now")
    in_beta = _dataset_with_wrong_stats(beta, "Queued now")

    with schema_context(alpha.schema_name):
        queued = enqueue(
            recount_dataset_stats, str(in_alpha.pk), eta=timezone.now() + timedelta(seconds=1), after_commit=False
        )

    assert queued is True
    assert _wait_for_total(alpha, in_alpha.pk, 1) == 1
    with schema_context(beta.schema_name):
        assert Dataset.objects.get(pk=in_beta.pk).total_leads == 99


def test_a_real_worker_runs_an_import_in_the_clients_schema(tenants, celery_worker_process):
    from django.core.files.base import ContentFile

    from leads.importing.receive import upload_receive
    from leads.tasks import import_upload
    from tests.leads.test_imports import MAPPING, _csv, _row

    alpha = tenants["alpha"]
    with schema_context(alpha.schema_name):
        dataset = dataset_create(name="Worker import")
        upload = upload_receive(
            fileobj=ContentFile(_csv([_row(n) for n in range(1, 51)])),
            filename="w.csv",
            uploaded_by=None,
            dataset=dataset,
        )
        import_upload.delay(str(upload.pk), str(dataset.pk), MAPPING)

    assert _wait_for_total(alpha, dataset.pk, 50, timeout=60) == 50
    with schema_context(alpha.schema_name):
        upload.refresh_from_db()
        assert upload.status == "completed"


def test_every_task_s_soft_time_limit_is_within_its_hard_limit():
    """Celery refuses to send a task whose soft limit (its own or the default) exceeds its hard one."""
    from dbr.celery import app

    app.loader.import_default_modules()
    ours = [
        task
        for name, task in app.tasks.items()
        if name.split(".")[0] in {"campaigns", "clients", "dbr", "leads", "sophie"}
    ]
    assert ours
    for task in ours:
        hard = task.time_limit if task.time_limit is not None else app.conf.task_time_limit
        soft = task.soft_time_limit if task.soft_time_limit is not None else app.conf.task_soft_time_limit
        assert soft is None or hard is None or soft <= hard, task.name
