"""The tests' backend: keeps what it was given in memory; `fail_next(...)` makes the next sends raise."""

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from campaigns.transports.base import RECONCILE_CLOCK_SLACK, SendResult, Transport, TransportError, same_body


@dataclass
class OutboxMessage:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    validity_period: int | None
    sent_at: datetime = field(default_factory=timezone.now)


class LocmemTransport(Transport):
    """One instance per process (see `campaigns.transports`); a worker thread may send while a test reads."""

    name = "The test SMS outbox"

    def __init__(self):
        self.messages: list[OutboxMessage] = []
        self._failures: list[TransportError] = []
        self._lock = threading.Lock()

    def fail_next(self, *errors: TransportError) -> None:
        with self._lock:
            self._failures.extend(errors)

    def send(
        self, *, to: str, from_: str, body: str, status_callback: str | None, validity_period: int | None
    ) -> SendResult:
        with self._lock:
            if self._failures:
                raise self._failures.pop(0)
            message = OutboxMessage("SM" + uuid.uuid4().hex, to, from_, body, status_callback, validity_period)
            self.messages.append(message)
        return SendResult(sid=message.sid, status="queued")

    def find_sent(self, *, to: str, from_: str, sent_after: datetime, body: str) -> str | None:
        since = sent_after - RECONCILE_CLOCK_SLACK
        with self._lock:
            for message in reversed(self.messages):
                if (message.to, message.from_) == (to, from_) and message.sent_at >= since:
                    if same_body(message.body, body):
                        return message.sid
        return None
