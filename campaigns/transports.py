"""The only module that talks to SMS providers: one class per backend (DBR_SMS_BACKEND).

Every failure leaves as a `TransportError` whose `kind` tells the send task what it may do
(DESIGN.md §4 "at most once"): retry only when the request cannot have reached the
provider, never resend after an ambiguous failure, give up on a permanent one.
"""

import functools
import logging
import random
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

# Imported here so every process that can send also knows the simulator's callback task.
from campaigns import simulator
from campaigns.outbox.codes import ACCOUNT_ERROR_CODES, COMMON_DELIVERY_FAILURES, RATE_LIMITED_CODES

logger = logging.getLogger(__name__)

RETRY, AMBIGUOUS, PERMANENT = "retry", "ambiguous", "permanent"

DEFAULT_TIMEOUT_SECONDS = 10.0
# Signs simulated callbacks when no real token is configured (never accepted with the twilio backend).
DEV_AUTH_TOKEN = "dbr-simulator-dev-token"
# Twilio's clock and ours disagree a little; reconciliation looks this far before the attempt.
RECONCILE_CLOCK_SLACK = timedelta(minutes=5)


class TransportError(Exception):
    RETRY, AMBIGUOUS, PERMANENT = RETRY, AMBIGUOUS, PERMANENT

    def __init__(self, message: str, *, kind: str, code: str | None = None, status: int | None = None):
        if kind not in (RETRY, AMBIGUOUS, PERMANENT):
            raise ValueError(f"unknown TransportError kind {kind!r}")
        super().__init__(message)
        self.message, self.kind, self.code, self.status = message, kind, code, status

    @property
    def account_error(self) -> bool:
        if self.kind != PERMANENT:
            return False
        return self.code in ACCOUNT_ERROR_CODES or (self.code is None and self.status in (401, 403))

    def __repr__(self) -> str:
        return f"TransportError({self.message!r}, kind={self.kind!r}, code={self.code!r}, status={self.status!r})"


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str


class Transport:
    def send(
        self, *, to: str, from_: str, body: str, status_callback: str | None, validity_period: int | None
    ) -> SendResult:
        raise NotImplementedError

    def find_sent(self, *, to: str, from_: str, sent_after: datetime, body: str) -> str | None:
        """SID of a message to `to` from `from_` with this body created after `sent_after`, else None."""
        raise NotImplementedError


def _same_body(theirs: str | None, ours: str) -> bool:
    return (theirs or "").strip() == ours.strip()


# --- Twilio ----------------------------------------------------------------------------


class RoutedHttpClient(TwilioHttpClient):
    """The SDK's HTTP client with a timeout, optionally sending every call to another server.

    The SDK builds absolute api.twilio.com URLs (paging links too); with a base URL set,
    scheme and host are swapped so a local fake Twilio gets every request.
    """

    def __init__(self, *, timeout: float, base_url: str | None = None):
        super().__init__(timeout=timeout)
        self.base = urlsplit(base_url.rstrip("/")) if base_url else None

    def request(self, method, url, *args, **kwargs):
        if self.base is not None:
            parts = urlsplit(url)
            url = urlunsplit((self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


def _twilio_error(exc: Exception) -> TransportError:
    """Maps whatever the SDK or requests raised onto the three kinds."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(exc.status)
        code = str(exc.code) if exc.code is not None and exc.code != exc.status else None
        text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
        message = f"Twilio answered HTTP {status}" + (f" (error {code})" if code else "") + f": {text}"
        if status == 429 or code in RATE_LIMITED_CODES:
            return TransportError(message, kind=RETRY, code=code, status=status)
        if status >= 500 or status < 400:
            return TransportError(message, kind=AMBIGUOUS, code=code, status=status)
        return TransportError(message, kind=PERMANENT, code=code, status=status)
    if isinstance(exc, TwilioException):  # a list page that was not HTTP 200
        response = exc.args[1] if len(exc.args) > 1 else None
        status = getattr(response, "status_code", None)
        kind = RETRY if status == 429 else PERMANENT if status and 400 <= status < 500 else AMBIGUOUS
        return TransportError(f"Twilio answered HTTP {status}: {exc.args[0]}", kind=kind, status=status)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TransportError(f"Twilio could not be reached in time: {exc}", kind=RETRY)
    if isinstance(exc, requests.exceptions.Timeout):
        return TransportError(f"Twilio did not answer in time: {exc}", kind=AMBIGUOUS)
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError) and isinstance(reason.reason, NewConnectionError):
            # Connection refused, DNS failure: no byte of the request left this machine.
            return TransportError(f"Twilio could not be reached: {reason.reason}", kind=RETRY)
        return TransportError(f"The connection to Twilio broke: {exc}", kind=AMBIGUOUS)
    if isinstance(exc, ValueError | requests.exceptions.RequestException):  # JSONDecodeError is a ValueError
        return TransportError(f"Twilio's answer could not be read: {exc}", kind=AMBIGUOUS)
    # Anything else may have happened after the request left: never safe to resend.
    return TransportError(f"Unexpected error talking to Twilio: {exc!r}", kind=AMBIGUOUS)


class TwilioTransport(Transport):
    def __init__(self, *, account_sid: str, auth_token: str, base_url: str | None = None, timeout: float = 10.0):
        self.http_client = RoutedHttpClient(timeout=timeout, base_url=base_url)
        self.client = Client(account_sid, auth_token, http_client=self.http_client)

    def send(
        self, *, to: str, from_: str, body: str, status_callback: str | None, validity_period: int | None
    ) -> SendResult:
        try:
            message = self.client.messages.create(
                to=to,
                from_=from_,
                body=body,
                status_callback=status_callback or values.unset,
                validity_period=validity_period if validity_period is not None else values.unset,
            )
        except Exception as exc:
            raise _twilio_error(exc) from exc
        if not message.sid:
            raise TransportError("Twilio accepted the request but returned no message SID", kind=AMBIGUOUS)
        return SendResult(sid=message.sid, status=message.status or "queued")

    def find_sent(self, *, to: str, from_: str, sent_after: datetime, body: str) -> str | None:
        # No DateSent filter: Twilio leaves date_sent empty while a message waits in its queue,
        # and that is exactly the message we are looking for. One number pair holds few messages.
        try:
            found = self.client.messages.list(to=to, from_=from_, limit=200, page_size=100)
        except Exception as exc:
            raise _twilio_error(exc) from exc
        since = sent_after - RECONCILE_CLOCK_SLACK
        for message in found:
            created = message.date_created or message.date_sent
            if (created is None or created >= since) and _same_body(message.body, body):
                return message.sid
        return None


@functools.lru_cache(maxsize=4)
def _twilio_transport(account_sid: str, auth_token: str, base_url: str | None, timeout: float) -> TwilioTransport:
    # One SDK client (and its connection pool) per configuration and process.
    return TwilioTransport(account_sid=account_sid, auth_token=auth_token, base_url=base_url, timeout=timeout)


# --- Simulator (the demo's default) ------------------------------------------------------

SIMULATED_FAILURES = COMMON_DELIVERY_FAILURES


class SimulatorTransport(Transport):
    """Accepts every message and plays Twilio's status callbacks back to our webhook."""

    def __init__(self, *, failure_rate: float = 0.1, rng: random.Random | None = None, delay: float = 2.0):
        self.failure_rate, self.rng, self.delay = failure_rate, rng or random.Random(), delay  # noqa: S311 (demo outcomes)
        self._sent: deque[tuple[str, str, str, str, datetime]] = deque(maxlen=1000)  # this process only

    def send(
        self, *, to: str, from_: str, body: str, status_callback: str | None, validity_period: int | None
    ) -> SendResult:
        sid = "SM" + uuid.uuid4().hex
        self._sent.append((sid, to, from_, body, timezone.now()))
        if status_callback:
            final, code = "delivered", None
            if self.rng.random() < self.failure_rate:
                final, code = self.rng.choice(SIMULATED_FAILURES)
            try:
                simulator.schedule_callbacks(
                    url=status_callback, sid=sid, to=to, from_=from_, final=final, error_code=code, delay=self.delay
                )
            except Exception:
                # The message counts as sent; only its demo callbacks are lost.
                logger.exception("Simulator: could not schedule status callbacks for %s", sid)
        return SendResult(sid=sid, status="queued")

    def find_sent(self, *, to: str, from_: str, sent_after: datetime, body: str) -> str | None:
        since = sent_after - RECONCILE_CLOCK_SLACK
        for sid, sent_to, sent_from, sent_body, at in reversed(self._sent):
            if (sent_to, sent_from) == (to, from_) and at >= since and _same_body(sent_body, body):
                return sid
        return None


# --- Locmem (tests) ----------------------------------------------------------------------


@dataclass
class OutboxMessage:
    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    validity_period: int | None
    sent_at: datetime = field(default_factory=timezone.now)


outbox: list[OutboxMessage] = []
_next_failures: list[TransportError] = []
_locmem_lock = threading.Lock()


class LocmemTransport(Transport):
    """Appends to the module-level `outbox`; `fail_next(...)` makes the next sends raise."""

    @staticmethod
    def fail_next(*errors: TransportError) -> None:
        with _locmem_lock:
            _next_failures.extend(errors)

    @staticmethod
    def reset() -> None:
        with _locmem_lock:
            outbox.clear()
            _next_failures.clear()

    def send(
        self, *, to: str, from_: str, body: str, status_callback: str | None, validity_period: int | None
    ) -> SendResult:
        with _locmem_lock:
            if _next_failures:
                raise _next_failures.pop(0)
            message = OutboxMessage("SM" + uuid.uuid4().hex, to, from_, body, status_callback, validity_period)
            outbox.append(message)
        return SendResult(sid=message.sid, status="queued")

    def find_sent(self, *, to: str, from_: str, sent_after: datetime, body: str) -> str | None:
        with _locmem_lock:
            for message in reversed(outbox):
                if (message.to, message.from_) == (to, from_) and message.sent_at >= sent_after - RECONCILE_CLOCK_SLACK:
                    if _same_body(message.body, body):
                        return message.sid
        return None


def twilio_auth_token() -> str | None:
    """The secret status callbacks are signed with; the dev default only away from real Twilio."""
    if settings.TWILIO_AUTH_TOKEN:
        return settings.TWILIO_AUTH_TOKEN
    return None if settings.DBR_SMS_BACKEND == "twilio" else DEV_AUTH_TOKEN


# --- Choice --------------------------------------------------------------------------------

BACKENDS = ("twilio", "simulator", "locmem")
_simulator = SimulatorTransport()
_locmem = LocmemTransport()


def get_transport() -> Transport:
    backend = settings.DBR_SMS_BACKEND
    if backend == "twilio":
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            raise ImproperlyConfigured("DBR_SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
        timeout = float(getattr(settings, "TWILIO_TIMEOUT_SECONDS", None) or DEFAULT_TIMEOUT_SECONDS)
        return _twilio_transport(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL or None, timeout
        )
    if backend == "simulator":
        return _simulator
    if backend == "locmem":
        return _locmem
    raise ImproperlyConfigured(
        f"DBR_SMS_BACKEND={backend!r} is not a known SMS backend; use one of {', '.join(BACKENDS)}."
    )
