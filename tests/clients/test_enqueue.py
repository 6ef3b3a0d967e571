"""`enqueue` with the broker down: the caller gets an answer at once, never an exception."""

import socket
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
