"""Queueing tenant-aware Celery tasks: `enqueue`, the one way tasks are sent.

tenant-schemas-celery reads the schema from the connection when a task is *sent*. A task
queued with `transaction.on_commit` is sent later, when the connection may have moved to
another schema, so the schema is captured now and passed explicitly.

A broker outage must never fail the caller's request: the task is published once, without
retries and with short broker timeouts (CELERY_BROKER_TRANSPORT_OPTIONS), and a failure is
logged and reported to the caller instead of raised.

A task declared with `lean_publish=True` (one a web request queues on its hot path: the SMS
webhook's `process_inbound`) is, outside a worker and when plain (no eta, no routing of its own,
the Redis broker), written with one LPUSH on a client kept per process: Celery builds the
message (`as_task_v2`), the envelope is kombu's Redis one. `apply_async` costs ~1.5 ms of CPU
per task, almost all Python, this ~0.5 ms (docs/performance.md); tests/clients/test_enqueue.py
checks both give the same message. Queued after a commit with no `on_error`, the LPUSH is left to
a thread of the process (`_Publisher`), so the request does not wait for Redis.
"""

import atexit
import base64
import collections
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis
from django.db import connection, transaction
from django.utils import timezone
from kombu.utils.json import dumps
from kombu.utils.uuid import uuid
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)


def enqueue(
    task,
    *args,
    eta: datetime | None = None,
    after_commit: bool = True,
    on_error: Callable[[Exception], None] | None = None,
    **kwargs,
) -> bool | None:
    """Sends `task(*args, **kwargs)` to run in the current schema.

    Now: True when published, False when not. After commit: None, and a failure goes to
    `on_error` (the caller's request has answered by then).
    """
    schema_name = connection.schema_name

    def publish() -> bool:
        try:
            plain = _lean_route(task) if eta is None else None
            if plain is not None and after_commit and on_error is None:
                _publisher.put((plain, args, kwargs, schema_name))  # the caller answers without waiting
            elif plain is not None:
                _lean_publish(plain, args, kwargs, schema_name)
            else:
                task.apply_async(args=args, kwargs=kwargs, eta=eta, headers={"_schema_name": schema_name}, retry=False)
        except Exception as exc:
            logger.exception("Could not queue %s for schema %s", task.name, schema_name)
            if on_error is not None:
                on_error(exc)
            return False
        return True

    if after_commit:
        transaction.on_commit(publish, robust=True)
        return None
    return publish()


# --- The lean path -------------------------------------------------------------------------------

# Options a task may set that change where or how its message goes: those tasks take apply_async.
_ROUTING_OPTIONS = ("queue", "routing_key", "exchange", "priority", "expires", "compression")
_DELIVERY_MODES = {"persistent": 2, "transient": 1}  # as kombu names them


@dataclass(frozen=True)
class _Plain:
    """What a plain task's messages share, read once: Celery's conf lookups cost more than the LPUSH."""

    task: object
    queue: str
    delivery_mode: int
    sent_event: bool
    broker: redis.Redis


_plain_tasks: dict = {}  # task -> _Plain, or None when it takes apply_async


def _lean_route(task) -> _Plain | None:
    """Only where the message is plainly Celery's default (see _plain), and never inside a worker
    task: apply_async records the parent and root ids there."""
    if task.app.conf.task_always_eager:  # read each time: tests switch it on and off
        return None
    if task not in _plain_tasks:
        _plain_tasks[task] = _plain(task)
    plain = _plain_tasks[task]
    return plain if plain is not None and task.app.current_worker_task is None else None


def _plain(task) -> _Plain | None:
    """Declared lean; not eager, no routes, JSON, protocol 2, and kombu's Redis transport without a key prefix."""
    if not getattr(task, "lean_publish", False):
        return None
    conf = task.app.conf
    if conf.task_always_eager or conf.task_routes or conf.task_compression or conf.task_protocol != 2:
        return None
    url, transport = str(conf.broker_write_url or conf.broker_url or ""), conf.broker_transport_options or {}
    if not url.startswith(("redis://", "rediss://")) or ";" in url or transport.get("global_keyprefix"):
        return None  # another transport, failover URLs, or keys kombu would prefix
    options = task._get_exec_options()
    if options.get("serializer") != "json" or any(options.get(name) is not None for name in _ROUTING_OPTIONS):
        return None
    return _Plain(
        task=task._get_current_object() if hasattr(task, "_get_current_object") else task,
        queue=conf.task_default_queue,
        delivery_mode=_DELIVERY_MODES.get(conf.task_default_delivery_mode, conf.task_default_delivery_mode),
        sent_event=conf.task_send_sent_event,
        broker=_broker(url, transport),
    )


def _lean_publish(plain: _Plain, args: tuple, kwargs: dict, schema_name: str) -> None:
    task, app = plain.task, plain.task.app
    headers, properties, body, _ = app.amqp.as_task_v2(
        uuid(),
        task.name,
        args,
        kwargs,
        reply_to=app.thread_oid,
        time_limit=task.time_limit,
        soft_time_limit=task.soft_time_limit,
        create_sent_event=plain.sent_event,
        ignore_result=task.ignore_result,
    )
    headers["_schema_name"] = schema_name
    # kombu's Redis envelope: Producer.publish, Channel.prepare_message, then basic_publish's additions.
    properties.update(
        delivery_mode=plain.delivery_mode,
        delivery_info={"exchange": "", "routing_key": plain.queue},
        priority=0,
        body_encoding="base64",
        delivery_tag=uuid(),
    )
    message = {
        "body": base64.b64encode(dumps(body).encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": properties,
    }
    plain.broker.lpush(plain.queue, dumps(message))


class _Publisher:
    """One daemon thread per process that writes lean messages queued after a commit, so the request that
    queued one (the SMS webhook) answers without waiting for Redis: its worker serves the next request
    while the LPUSH is under way.

    Nothing depends on the message arriving: a text whose message is lost (the process killed before the
    thread wrote it, Redis down, more than MAX_PENDING waiting) is found by the inbound sweep after a
    minute, as after a broker outage. A normal exit writes what is pending first (atexit).
    """

    MAX_PENDING = 10_000

    def __init__(self) -> None:
        self._pid: int | None = None
        self._items: collections.deque = collections.deque()
        self._ready = threading.Condition()
        self._busy = 0  # taken from the deque, not yet written

    def put(self, item: tuple) -> None:
        with self._ready:
            if self._pid != os.getpid():  # first use in this process (gunicorn and Celery fork)
                self._pid, self._items, self._busy = os.getpid(), collections.deque(), 0
                threading.Thread(target=self._run, name="dbr-lean-publisher", daemon=True).start()
            if len(self._items) >= self.MAX_PENDING:
                logger.error(
                    "Lean publisher: %d messages waiting, dropping one (the sweep will find it)", len(self._items)
                )
                return
            self._items.append(item)
            self._ready.notify()

    def flush(self, timeout: float = 5.0) -> bool:
        """Waits until every message put so far is written (or failed); False on timeout."""
        with self._ready:
            return self._ready.wait_for(lambda: not self._items and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._items)
                plain, args, kwargs, schema_name = self._items.popleft()
                self._busy += 1
            try:
                _lean_publish(plain, args, kwargs, schema_name)
            except Exception:
                logger.exception("Could not queue %s for schema %s", plain.task.name, schema_name)
            finally:
                with self._ready:
                    self._busy -= 1
                    self._ready.notify_all()


_publisher = _Publisher()
atexit.register(_publisher.flush, 2.0)


def lean_flush(timeout: float = 5.0) -> bool:
    """Waits for the messages this process queued after commits to be written (tests, scripts)."""
    return _publisher.flush(timeout)


_clients: dict[str, redis.Redis] = {}


def _broker(url: str, transport: dict) -> redis.Redis:
    """One client (its own connection pool, fork-safe) per broker URL and process, with the broker's
    short timeouts: an outage is reported at once, as apply_async(retry=False) does."""
    if url not in _clients:
        _clients[url] = redis.Redis.from_url(
            url,
            socket_timeout=transport.get("socket_timeout"),
            socket_connect_timeout=transport.get("socket_connect_timeout"),
            retry=Retry(NoBackoff(), 1),  # once at once: a connection the broker closed (a restart)
        )
    return _clients[url]


# --- Which clients beat's sweeps visit -------------------------------------------------------------
#
# A public flag, `Client.work_pending`, lets the sweeps skip idle clients without a query in their schema.
# A request on the client's host sets it (and pushes `active_until` ACTIVE_WINDOW ahead, written at most
# every half window); `clients_idle_mark` clears it once the window has passed and one statement (one
# snapshot) over the pending-work checks the apps registered finds nothing. Work is made by a request, or by
# a task handling a row that is itself pending work (an unprocessed text, a scheduled reply, an import in
# progress), in the transaction that settles that row: so the check sees the old row or the new one, and
# a request in flight has pushed the window past the check's instant. Code that makes work for a client
# outside a request (a management command, a shell) calls `client_work_mark`.

ACTIVE_WINDOW = timedelta(minutes=15)
_pending_work_sql: dict[str, str] = {}


def pending_work_register(name: str, sql: str) -> None:
    """An app's check for pending work in the current schema: an SQL boolean expression such as
    `EXISTS (SELECT 1 FROM uploads WHERE status = 'processing')` (called from its AppConfig.ready)."""
    _pending_work_sql[name] = sql


def pending_work_exists() -> bool:
    """Whether any registered kind of work is pending in the current schema, in one statement."""
    if not _pending_work_sql:
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " OR ".join(f"({sql})" for sql in _pending_work_sql.values()))
        return cursor.fetchone()[0]


def client_activity_mark(client, *, at: datetime | None = None) -> None:
    """A request on the client's host: its sweeps stay on for ACTIVE_WINDOW. Writes only when the flag is off
    or the window is half gone, so a busy client costs one UPDATE every few minutes."""
    if client.is_public:
        return
    at = at or timezone.now()
    if client.work_pending and client.active_until is not None and client.active_until > at + ACTIVE_WINDOW / 2:
        return
    client_work_mark(client, at=at)


def client_work_mark(client, *, at: datetime | None = None) -> None:
    """The client may have work for the sweeps from now on (and for ACTIVE_WINDOW at least)."""
    from clients.models import Client

    at = at or timezone.now()
    Client.objects.filter(pk=client.pk).update(work_pending=True, active_until=at + ACTIVE_WINDOW)
    client.work_pending, client.active_until = True, at + ACTIVE_WINDOW


def clients_idle_mark(*, at: datetime) -> int:
    """Beat: clears `work_pending` of each client whose window has passed and that has no pending work;
    returns how many. A client never marked gets its window now."""
    from django_tenants.utils import schema_context

    from clients.models import Client

    cleared = 0
    candidates = Client.objects.filter(schema_ready=True, work_pending=True, has_active_campaign=False)
    for client in candidates.exclude(schema_name="public").order_by("schema_name"):
        if client.active_until is None:
            Client.objects.filter(pk=client.pk, active_until=None).update(active_until=at + ACTIVE_WINDOW)
            continue
        if client.active_until > at:
            continue
        with schema_context(client.schema_name):
            pending = pending_work_exists()
        if not pending:
            # A request since the check has moved active_until on: then the flag stays.
            cleared += Client.objects.filter(pk=client.pk, work_pending=True, active_until__lte=at).update(
                work_pending=False
            )
    return cleared


def in_each_busy_client() -> Iterator:
    """As in_each_ready_client, for the sweeps of pending work: only clients flagged as possibly having some
    (or running a campaign). An idle client costs no query in its schema."""
    from django.db.models import Q
    from django_tenants.utils import schema_context

    from clients.models import Client

    busy = Client.objects.filter(Q(work_pending=True) | Q(has_active_campaign=True), schema_ready=True)
    for client in busy.exclude(schema_name="public").order_by("schema_name"):
        with schema_context(client.schema_name):
            yield client


def in_each_ready_client() -> Iterator:
    """Beat's fan-out: every client whose schema is ready, the connection in its schema while the caller
    looks (a cheap check of pending work, then a task per client that has some)."""
    from django_tenants.utils import schema_context

    from clients.models import Client

    for client in Client.objects.filter(schema_ready=True).exclude(schema_name="public").order_by("schema_name"):
        with schema_context(client.schema_name):
            yield client
