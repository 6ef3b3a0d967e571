"""Sending one outbox message, at most once.

pending → sending is committed before the provider is called; the SID is recorded after.
Only errors that cannot have reached the provider (and 429) go back to pending; a timeout,
a dropped connection or a 5xx makes the message `unknown` until reconciled against the
provider's own list. Nothing is ever resent blindly. Transient failures back off with no
attempt cap and pause the campaign when they run on (`outage.py`); only a permanent error
fails a text, and a cadence text that failed for good takes its lead out of the cadence.
"""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from campaigns.models import Message
from campaigns.outbox.claim import WINDOWED, message_claim
from campaigns.outbox.codes import Kind, error_sentence, kind_of, provider_error_apply
from campaigns.outbox.outage import backoff, sending_recovered, transient_failure_count
from campaigns.outbox.reconcile import message_unknown_mark
from campaigns.outbox.record import message_give_up, message_record_sent
from campaigns.schedule import reply_validity_period, validity_period, window_from_settings
from campaigns.transports import get_transport
from campaigns.transports.base import Transport, TransportError
from clients.access import client_url, current_client
from leads.services import lead_send_failed_mark

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendOutcome:
    word: str  # what happened, in a word, for logs and tests
    # Set when this send put the message off (window, rate limit): the caller alone follows up then, so
    # one message never has two chains of tasks. A retry after an error is left to the tick.
    retry_at: datetime | None = None

    def __str__(self) -> str:
        return self.word


def status_callback_url(message: Message) -> str:
    return client_url(current_client(), f"/webhooks/twilio/status/?message={message.pk}")


def message_send(*, message_id, at: datetime, transport: Transport | None = None) -> SendOutcome:
    """Sends one pending message."""
    started = time.monotonic()
    claim = message_claim(message_id=message_id, at=at)
    if claim.message is None:
        return SendOutcome(claim.word, claim.retry_at)
    message = claim.message
    transport = transport or get_transport()
    try:
        result = transport.send(
            to=message.to_number,
            from_=message.from_number,
            body=message.content,
            status_callback=status_callback_url(message),
            validity_period=_validity(message, at),
        )
    except TransportError as exc:
        return _failed_attempt(message, exc, at, answered_at=_answered(at, started), transport=transport)
    message_record_sent(
        message=message, sid=result.sid, provider_status=result.status, at=at, answered_at=_answered(at, started)
    )
    sending_recovered(dataset_id=message.lead.dataset_id)
    return SendOutcome("sent")


def _answered(at: datetime, started: float) -> datetime:
    """The injected clock moved on by the time the provider took: the rate limits count to this instant."""
    return at + timedelta(seconds=time.monotonic() - started)


def _validity(message: Message, at: datetime) -> int | None:
    options = message.lead.dataset.campaign_settings
    if options is None or options.sending_hours_start is None:
        return None
    window = window_from_settings(options)
    if message.message_type in WINDOWED:
        return validity_period(window, at)
    return reply_validity_period(at, window.tz)


def _failed_attempt(
    message: Message, exc: TransportError, at: datetime, *, answered_at: datetime, transport: Transport
) -> SendOutcome:
    Message.objects.filter(pk=message.pk).update(answered_at=answered_at)
    kind = exc.kind
    if kind == TransportError.PERMANENT and kind_of(exc.code) == Kind.RATE_LIMITED:
        kind = TransportError.RETRY  # a rate-limit code is a reason to wait, whatever the status came with
    if kind != TransportError.PERMANENT:
        provider = getattr(transport, "name", "The SMS provider")
        transient_failure_count(message=message, brief=exc.brief, provider=provider, at=at)
    if kind == TransportError.RETRY:
        # Never reached the provider (or it asked us to wait): pending again after the backoff, no attempt cap.
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.PENDING,
            next_attempt_at=at + backoff(message.attempts),
            error_message=f"Will retry: {exc}",
        )
        return SendOutcome("retry")
    if kind == TransportError.AMBIGUOUS:
        message_unknown_mark(
            message=message, at=at, reason=f"Unknown whether it was sent ({exc}); checking with the provider."
        )
        return SendOutcome("unknown")
    if exc.account_error:
        return _held_for_the_account(message, exc, at)
    message_give_up(message=message, at=at, reason=str(exc), code=exc.code)
    provider_error_apply(message=message, code=exc.code, at=at, account_error=exc.account_error)
    if message.message_type in WINDOWED:
        # The step will never go: the lead leaves the cadence, its status and timeline say why (unless the
        # code's own consequence, an unreachable number or an unsubscribe, took it out already).
        reason = error_sentence(exc.code) or str(exc)
        lead_send_failed_mark(lead_id=message.lead_id, reason=f"Not sent: {reason}", at=at)
    return SendOutcome("failed")


def _held_for_the_account(message: Message, exc: TransportError, at: datetime) -> SendOutcome:
    """The provider refused the sender, not the lead: the campaign pauses (`provider_error_apply`) and the
    text waits, pending with no time set, until staff fix the account and resume (which makes it due)."""
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.PENDING, next_attempt_at=None, error_message=f"Held: {exc}", error_code=exc.code
    )
    provider_error_apply(message=message, code=exc.code, at=at, account_error=True)
    if message.message_type not in WINDOWED:
        # A reply or a confirmation has no campaign to resume: it fails, with the reason, as before.
        message_give_up(message=message, at=at, reason=str(exc), code=exc.code)
        return SendOutcome("failed")
    return SendOutcome("held")


# --- Several at once: overlapping the provider's latency ---------------------------------------------
# A send spends most of its time waiting for the provider (100–300 ms for Twilio), so one process sends a
# batch on a few threads. Nothing about a single message changes: each is claimed in its own committed
# transaction (pending → sending under a row lock, so no two threads or processes can both claim it), sent
# once and recorded; the rate limits are checked in each claim under the campaign's lock, as before.
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _send_pool() -> ThreadPoolExecutor:
    """One pool per process, made on first use (after a prefork worker forked); its threads keep their
    database connection from one batch to the next."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=settings.DBR_SEND_THREADS, thread_name_prefix="dbr-send")
        return _pool


def messages_send(*, message_ids: list, clock: Callable[[], datetime]) -> list[tuple[object, SendOutcome]]:
    """Sends these pending messages of the current client, up to DBR_SEND_THREADS at a time; (id, outcome)
    for each, in order. `clock` gives each send its own instant (the real clock under Celery)."""
    tenant = connection.tenant
    if settings.DBR_SEND_THREADS <= 1 or len(message_ids) <= 1:
        return [(pk, message_send(message_id=pk, at=clock())) for pk in message_ids]

    def one(pk) -> tuple[object, SendOutcome]:
        connection.close_if_unusable_or_obsolete()  # this thread's own connection, kept between batches
        if connection.schema_name != tenant.schema_name:
            connection.set_tenant(tenant)  # makes the next statement issue `SET search_path` first
        else:
            connection.tenant = tenant  # the search path is this client's already: no round trip
        try:
            return pk, message_send(message_id=pk, at=clock())
        except Exception:
            logger.exception("Sending message %s failed", pk)
            connection.close()  # whatever state the connection was left in, the next batch starts clean
            return pk, SendOutcome("error")

    return list(_send_pool().map(one, message_ids))


def send_pool_shutdown() -> None:
    """Closes every send thread's database connection and stops the pool (tests; a process that is ending)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is None:
        return
    threads = pool._max_workers  # the size it was made with, whatever the setting says now
    every_thread = threading.Barrier(threads)  # each thread takes exactly one of the jobs below

    def close() -> None:
        connection.close()
        every_thread.wait(timeout=30)

    for job in [pool.submit(close) for _ in range(threads)]:
        job.result()
    pool.shutdown()
