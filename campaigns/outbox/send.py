"""Sending one outbox message, at most once.

pending → sending is committed before the provider is called; the SID is recorded after.
Only errors that cannot have reached the provider (and 429) go back to pending; a timeout,
a dropped connection or a 5xx makes the message `unknown` until reconciled against the
provider's own list. Nothing is ever resent blindly.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.models import Message
from campaigns.outbox.claim import WINDOWED, message_claim
from campaigns.outbox.codes import provider_error_apply
from campaigns.outbox.reconcile import message_unknown_mark
from campaigns.outbox.record import message_give_up, message_record_sent
from campaigns.schedule import reply_validity_period, validity_period, window_from_settings
from campaigns.transports import get_transport
from campaigns.transports.base import Transport, TransportError
from clients.access import client_url, current_client

MAX_ATTEMPTS = 3
RETRY_AFTER = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=5))


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
        return _failed_attempt(message, exc, at, answered_at=_answered(at, started))
    message_record_sent(
        message=message, sid=result.sid, provider_status=result.status, at=at, answered_at=_answered(at, started)
    )
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


def _failed_attempt(message: Message, exc: TransportError, at: datetime, *, answered_at: datetime) -> SendOutcome:
    Message.objects.filter(pk=message.pk).update(answered_at=answered_at)
    if exc.kind == TransportError.RETRY:
        if message.attempts >= MAX_ATTEMPTS:
            message_give_up(message=message, at=at, reason=f"Not sent after {message.attempts} tries: {exc}")
            return SendOutcome("gave up")
        later = at + RETRY_AFTER[min(message.attempts, len(RETRY_AFTER)) - 1]
        Message.objects.filter(pk=message.pk).update(
            status=Message.Status.PENDING, next_attempt_at=later, error_message=f"Will retry: {exc}"
        )
        return SendOutcome("retry")
    if exc.kind == TransportError.AMBIGUOUS:
        message_unknown_mark(
            message=message, at=at, reason=f"Unknown whether it was sent ({exc}); checking with the provider."
        )
        return SendOutcome("unknown")
    message_give_up(message=message, at=at, reason=str(exc), code=exc.code)
    provider_error_apply(message=message, code=exc.code, at=at, account_error=exc.account_error)
    return SendOutcome("failed")
