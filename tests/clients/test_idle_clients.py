"""Beat's sweeps skip idle clients: a public flag, cleared when nothing is pending, set again by a request."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from campaigns.models import InboundSms
from campaigns.tasks import sweep_inbound_all
from clients import queue
from clients.models import Client
from clients.queue import ACTIVE_WINDOW, client_work_mark, clients_idle_mark, in_each_busy_client
from leads.tasks import webhooks_due_all
from sophie.tasks import replies_due_all

LATER = ACTIVE_WINDOW + timedelta(minutes=1)


@pytest.fixture
def idle(tenants, db):
    """Both clients idle: their windows started, then passed with nothing pending."""
    now = timezone.now()
    Client.objects.filter(slug__in=["alpha", "beta"]).update(work_pending=True, active_until=now)
    assert clients_idle_mark(at=now + LATER) == 2
    return now + LATER


def _flag(slug: str) -> bool:
    return Client.objects.get(slug=slug).work_pending


class Statements:
    def __init__(self):
        self.sql = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)


def test_an_idle_client_costs_the_sweeps_no_query_in_its_schema(idle):
    statements = Statements()
    with connection.execute_wrapper(statements):
        assert (sweep_inbound_all(), replies_due_all(), webhooks_due_all()) == (0, 0, 0)

    assert len(statements.sql) == 3  # one public query per beat task: which clients are busy
    assert not any("inbound_sms" in sql or "messages" in sql for sql in statements.sql)


def test_pending_work_keeps_a_client_in_the_sweeps(tenants, db):
    now = timezone.now()
    Client.objects.filter(slug__in=["alpha", "beta"]).update(work_pending=True, active_until=now)
    with schema_context("alpha"):
        InboundSms.objects.create(message_sid="SM1", from_number="+447700900001", received_at=now)

    assert clients_idle_mark(at=now + LATER) == 1

    assert _flag("alpha") and not _flag("beta")
    assert [client.slug for client in in_each_busy_client()] == ["alpha"]


def test_a_client_inside_its_window_stays_and_one_never_marked_gets_a_window(tenants, db):
    now = timezone.now()
    Client.objects.filter(slug="alpha").update(work_pending=True, active_until=now + timedelta(minutes=5))
    Client.objects.filter(slug="beta").update(work_pending=True, active_until=None)

    assert clients_idle_mark(at=now) == 0

    assert _flag("alpha") and _flag("beta")
    assert Client.objects.get(slug="beta").active_until == now + ACTIVE_WINDOW


def test_a_request_on_the_host_puts_the_client_back(idle, client):
    assert not _flag("alpha")

    client.get("/login/", HTTP_HOST="alpha.localhost")

    alpha = Client.objects.get(slug="alpha")
    assert alpha.work_pending and alpha.active_until > timezone.now() + ACTIVE_WINDOW / 2
    assert not _flag("beta")


def test_a_request_during_the_check_keeps_the_flag(tenants, db, monkeypatch):
    now = timezone.now()
    Client.objects.filter(slug__in=["alpha", "beta"]).update(work_pending=True, active_until=now)
    alpha = Client.objects.get(slug="alpha")

    def a_request_arrives_meanwhile() -> bool:
        if connection.schema_name == "alpha":
            client_work_mark(alpha, at=now + LATER)
        return False

    monkeypatch.setattr(queue, "pending_work_exists", a_request_arrives_meanwhile)
    assert clients_idle_mark(at=now + LATER) == 1  # beta only

    assert _flag("alpha") and not _flag("beta")


def test_the_pending_work_check_is_one_statement_over_every_app(alpha):
    statements = Statements()
    with connection.execute_wrapper(statements):
        assert queue.pending_work_exists() is False

    (check,) = [sql for sql in statements.sql if not sql.startswith("SET search_path")]
    assert all(table in check for table in ("inbound_sms", "messages", "uploads", "webhook_deliveries"))
