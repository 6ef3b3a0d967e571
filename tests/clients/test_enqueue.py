"""`enqueue` with the broker down: the caller gets an answer at once, never an exception."""

import socket
import threading
import time

import pytest
from tenant_schemas_celery.app import CeleryApp

from clients.queue import enqueue


@pytest.fixture
def unreachable_task():
    """A task of an app configured like ours (same broker options) whose broker is a closed port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = CeleryApp("unreachable", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"

    @app.task(name="tests.unreachable")
    def nothing(*args):
        return None

    yield nothing
    app.close()


def test_it_reports_a_broker_outage_promptly_instead_of_raising(alpha, unreachable_task):
    errors = []

    started = time.monotonic()
    queued = enqueue(unreachable_task, "x", after_commit=False, on_error=errors.append)

    assert queued is False
    assert time.monotonic() - started < 5
    assert len(errors) == 1


def test_it_reports_an_outage_after_commit_to_on_error(alpha, unreachable_task, django_capture_on_commit_callbacks):
    errors = []

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = enqueue(unreachable_task, "x", on_error=errors.append)

    assert queued is None
    assert len(callbacks) == 1 and len(errors) == 1


def test_it_publishes_only_after_commit(alpha, unreachable_task, django_capture_on_commit_callbacks):
    errors = []

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue(unreachable_task, "x", on_error=errors.append)

    assert len(callbacks) == 1 and errors == []


@pytest.fixture
def lean_app(settings):
    """An app configured like ours on the test Redis, with its own queue (emptied before and after)."""
    import redis

    app = CeleryApp("lean", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.task_default_queue = "test_enqueue_lean"
    broker = redis.Redis.from_url(app.conf.broker_url)
    broker.delete("test_enqueue_lean")
    yield app, broker
    broker.delete("test_enqueue_lean")
    app.close()


def _popped(broker) -> dict:
    import base64
    import json

    message = json.loads(broker.rpop("test_enqueue_lean"))
    message["body"] = json.loads(base64.b64decode(message["body"]))
    for key in ("id", "root_id"):
        message["headers"].pop(key)
    for key in ("correlation_id", "delivery_tag"):
        message["properties"].pop(key)
    return message


def test_it_writes_the_message_apply_async_would(alpha, lean_app, monkeypatch):
    """Outside a worker a plain task is one LPUSH of our own (apply_async's CPU was most of the webhook's
    publish); the message must be the one Celery writes, ids apart."""
    app, broker = lean_app

    @app.task(name="tests.lean", ignore_result=True, time_limit=60, soft_time_limit=45, lean_publish=True)
    def lean(*args, **kwargs):
        return None

    with monkeypatch.context() as patched:
        patched.setattr(lean, "apply_async", lambda *a, **k: pytest.fail("took apply_async"))
        assert enqueue(lean, "a1b2", 7, after_commit=False, flag=True) is True
    lean.apply_async(args=("a1b2", 7), kwargs={"flag": True}, headers={"_schema_name": alpha.schema_name}, retry=False)

    ours, celerys = _popped(broker), _popped(broker)
    assert ours == celerys
    assert ours["headers"]["_schema_name"] == alpha.schema_name
    assert ours["body"][:2] == [["a1b2", 7], {"flag": True}]


def test_after_a_commit_the_lean_message_is_written_by_the_process_thread_not_the_caller(
    alpha, lean_app, monkeypatch, django_capture_on_commit_callbacks
):
    """The webhook answers without waiting for Redis; the same message arrives a moment later."""
    from clients import queue

    app, broker = lean_app

    @app.task(name="tests.lean_later", ignore_result=True, lean_publish=True)
    def lean_later(*args):
        return None

    callers = []
    real_publish = queue._lean_publish
    monkeypatch.setattr(
        queue, "_lean_publish", lambda *a: (callers.append(threading.current_thread()), real_publish(*a))
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert enqueue(lean_later, "row-1") is None

    assert queue.lean_flush(5)
    assert callers and callers[0] is not threading.current_thread()
    assert _popped(broker)["body"][0] == ["row-1"]


def test_a_lean_message_after_commit_never_holds_the_caller_when_redis_hangs(
    alpha, lean_app, caplog, django_capture_on_commit_callbacks
):
    """Redis accepting but never answering: the caller returns at once; the thread logs the failure."""
    from clients import queue

    app, _ = lean_app
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    app.conf.broker_url = f"redis://127.0.0.1:{listener.getsockname()[1]}/0"

    @app.task(name="tests.lean_hanging", ignore_result=True, lean_publish=True)
    def lean_hanging(*args):
        return None

    try:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            assert enqueue(lean_hanging, "row-2") is None
        assert time.monotonic() - started < 0.5
        assert queue.lean_flush(10)
    finally:
        listener.close()
    assert "Could not queue tests.lean_hanging" in caplog.text


def test_a_task_not_declared_lean_or_with_its_own_queue_goes_through_celery(alpha, lean_app, monkeypatch):
    app, broker = lean_app
    broker.delete("test_enqueue_elsewhere")

    @app.task(name="tests.elsewhere", queue="test_enqueue_elsewhere", lean_publish=True)
    def elsewhere():
        return None

    @app.task(name="tests.undeclared")
    def undeclared():
        return None

    sent = []
    monkeypatch.setattr(undeclared, "apply_async", lambda **kwargs: sent.append(kwargs))
    assert enqueue(undeclared, after_commit=False) is True
    assert len(sent) == 1
    assert enqueue(elsewhere, after_commit=False) is True

    assert broker.llen("test_enqueue_lean") == 0
    assert broker.llen("test_enqueue_elsewhere") == 1
    broker.delete("test_enqueue_elsewhere")


def test_a_real_worker_runs_a_lean_published_task_in_the_clients_schema(tenants, celery_worker_process):
    import time

    from django.utils import timezone
    from django_tenants.utils import schema_context

    from campaigns.inbound import inbound_store
    from campaigns.models import InboundSms
    from campaigns.tasks import process_inbound

    with schema_context("beta"):
        row, _ = inbound_store(
            params={"MessageSid": "SM-lean", "From": "+447700900555", "Body": "hi"}, at=timezone.now()
        )
        assert enqueue(process_inbound, str(row.pk), after_commit=False) is True

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with schema_context("beta"):
            if InboundSms.objects.filter(pk=row.pk).exclude(processed_at=None).exists():
                break
        time.sleep(0.2)
    with schema_context("beta"):
        assert InboundSms.objects.get(pk=row.pk).outcome == InboundSms.Outcome.FOREIGN_TO  # processed, in beta
