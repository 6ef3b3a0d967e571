"""Import with the broker down: a clear message, the upload can be run again, and a sweep re-queues
uploads left processing with no worker on them (docs/security.md §2)."""

import io
import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from tenant_schemas_celery.app import CeleryApp

from leads import tasks
from leads.importing.queueing import uploads_stuck_requeue
from leads.importing.receive import upload_mapping_set, upload_receive
from leads.models import Upload
from leads.services import dataset_create
from tests.leads.import_files import HEADER, MAPPING, csv_text

HOST = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def broker_down(monkeypatch):
    """The import task, published to a broker on a closed port (configured like ours otherwise)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = CeleryApp("down", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    unreachable = app.task(name=tasks.import_upload.name)(tasks.import_upload.run)
    monkeypatch.setattr(tasks, "import_upload", unreachable)
    yield
    app.close()


_names = iter(range(10**6))


def _waiting_upload(owner) -> Upload:
    text = csv_text([HEADER, ["Ann", "Lee", "07700900001", "", "", "", ""]])
    upload = upload_receive(
        fileobj=io.BytesIO(text.encode()),
        filename="l.csv",
        uploaded_by=owner,
        dataset=dataset_create(name=f"Q{next(_names)}"),
    )
    return upload_mapping_set(upload=upload, mapping=MAPPING)


def test_with_the_broker_down_import_says_so_and_can_be_run_again(alpha, owner, client, broker_down, monkeypatch):
    upload = _waiting_upload(owner)
    client.force_login(owner)

    response = client.post(f"/imports/{upload.pk}/run/", follow=True, **HOST)

    assert response.status_code == 200
    assert "background worker is unavailable" in response.content.decode()
    upload.refresh_from_db()
    assert upload.status == Upload.Status.MAPPING and upload.queued_at is None

    monkeypatch.undo()  # the broker is back
    client.post(f"/imports/{upload.pk}/run/", **HOST)

    upload.refresh_from_db()
    assert upload.status == Upload.Status.PROCESSING and upload.queued_at is not None


def test_the_sweep_requeues_uploads_no_worker_took(alpha, owner):
    now = timezone.now()
    forgotten, fresh, running, dead = (_waiting_upload(owner) for _ in range(4))
    Upload.objects.filter(pk=forgotten.pk).update(status="processing", queued_at=now - timedelta(minutes=11))
    Upload.objects.filter(pk=fresh.pk).update(status="processing", queued_at=now - timedelta(minutes=2))
    Upload.objects.filter(pk=running.pk).update(status="processing", started_at=now - timedelta(hours=1))
    Upload.objects.filter(pk=dead.pk).update(status="processing", started_at=now - timedelta(hours=4))

    assert uploads_stuck_requeue(at=now) == 2

    assert set(Upload.objects.filter(queued_at=now).values_list("pk", flat=True)) == {forgotten.pk, dead.pk}
    assert uploads_stuck_requeue(at=now) == 0
