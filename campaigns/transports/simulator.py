"""The demo's backend: accepts every message, plays Twilio's status callbacks back to our webhook,
and posts the simulated leads' replies to our inbound webhook.

The sender signs each callback now (it holds the token) and queues one short task per
callback; the worker only POSTs. Callbacks are independent tasks, so they may arrive out
of order — as Twilio's do. A reply typed in the lead simulator is signed the same way and
posted at once, so it takes the real road in: signature check, store, STOP, processing.
"""

import logging
import random
import threading
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from celery import current_app, shared_task
from django.conf import settings
from django.utils import timezone

from campaigns.outbox.codes import COMMON_DELIVERY_FAILURES
from campaigns.transports.base import RECONCILE_CLOCK_SLACK, SendResult, Transport, same_body
from campaigns.twilio_signature import twilio_sign
from clients.queue import enqueue

logger = logging.getLogger(__name__)

CALLBACK_TIMEOUT_SECONDS = 10
SIMULATED_FAILURES = COMMON_DELIVERY_FAILURES


class SimulatorTransport(Transport):
    name = "The SMS simulator"

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
                schedule_callbacks(
                    url=status_callback, sid=sid, to=to, from_=from_, final=final, error_code=code, delay=self.delay
                )
            except Exception:
                # The message counts as sent; only its demo callbacks are lost.
                logger.exception("Simulator: could not schedule status callbacks for %s", sid)
        return SendResult(sid=sid, status="queued")

    def find_sent(self, *, to: str, from_: str, sent_after: datetime, body: str) -> str | None:
        since = sent_after - RECONCILE_CLOCK_SLACK
        for sid, sent_to, sent_from, sent_body, at in reversed(self._sent):
            if (sent_to, sent_from) == (to, from_) and at >= since and same_body(sent_body, body):
                return sid
        return None


def callback_params(*, sid: str, status: str, to: str, from_: str, error_code: str | None = None) -> dict[str, str]:
    """The form fields of a Twilio message status callback."""
    params = {
        "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "From": from_,
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "To": to,
    }
    if error_code:
        params["ErrorCode"] = error_code
    if status in ("delivered", "undelivered"):
        params["RawDlrDoneDate"] = datetime.now(UTC).strftime("%y%m%d%H%M")
    return params


def schedule_callbacks(
    *, url: str, sid: str, to: str, from_: str, final: str, error_code: str | None, delay: float
) -> None:
    """Queues "sent" (unless the message failed outright) and then its final status."""
    statuses = [(final, error_code)] if final == "failed" else [("sent", None), (final, error_code)]
    for n, (status, code) in enumerate(statuses):
        params = callback_params(sid=sid, status=status, to=to, from_=from_, error_code=code)
        args = [url, params, twilio_sign(url, params)]
        countdown = delay * (n + 1)
        if current_app.conf.task_always_eager:
            # Eager mode would run the POST inside the sender and ignore the countdown.
            _post_later(countdown, args)
        else:
            eta = timezone.now() + timedelta(seconds=countdown)
            enqueue(post_status_callback, *args, eta=eta, after_commit=False)


def _post_later(countdown: float, args: list) -> None:
    timer = threading.Timer(countdown, post_status_callback.run, args=args)
    timer.daemon = True
    timer.start()


def internal_target(url: str) -> tuple[str, str]:
    """(URL to connect to, Host header): *.localhost does not resolve in Python's resolver."""
    parts = urlsplit(url)
    origin = getattr(settings, "DBR_SIMULATOR_CALLBACK_ORIGIN", None)
    if not origin:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        origin = f"{parts.scheme}://127.0.0.1:{port}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return origin.rstrip("/") + path, parts.netloc


def _post_signed(url: str, params: dict[str, str], signature: str) -> requests.Response:
    """POSTs form fields signed for `url` to our own server on this machine, naming the public host."""
    target, host = internal_target(url)
    return requests.post(
        target,
        data=params,
        headers={"Host": host, "X-Twilio-Signature": signature},
        timeout=CALLBACK_TIMEOUT_SECONDS,
        allow_redirects=False,
    )


@shared_task(ignore_result=True)
def post_status_callback(url: str, params: dict[str, str], signature: str) -> int | None:
    try:
        response = _post_signed(url, params, signature)
    except requests.RequestException as exc:
        logger.warning("Simulator: %s callback for %s not delivered: %s", params["MessageStatus"], url, exc)
        return None
    if response.status_code >= 300:
        logger.warning("Simulator: %s callback for %s answered %s", params["MessageStatus"], url, response.status_code)
    return response.status_code


# --- The lead's side: replies typed in the simulator --------------------------------------------


def simulator_enabled() -> bool:
    """The lead simulator exists only with the simulator backend: with real Twilio, leads reply themselves."""
    return settings.DBR_SMS_BACKEND == "simulator"


class ReplyNotDelivered(Exception):
    """The webhook did not take the simulated reply; the message says why, for the person who typed it."""


def reply_params(*, from_: str, to: str, body: str) -> dict[str, str]:
    """The form fields of Twilio's incoming-message webhook, with a fresh MessageSid."""
    sid = "SM" + uuid.uuid4().hex
    return {
        "AccountSid": settings.TWILIO_ACCOUNT_SID or "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "Body": body,
        "From": from_,
        "MessageSid": sid,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": to,
    }


def simulated_reply_send(*, webhook_url: str, from_: str, to: str, body: str) -> str:
    """Posts a lead's reply to our inbound webhook at `webhook_url`, signed as Twilio would; returns its
    MessageSid once the webhook has stored it. Raises ReplyNotDelivered otherwise."""
    params = reply_params(from_=from_, to=to, body=body)
    try:
        response = _post_signed(webhook_url, params, twilio_sign(webhook_url, params))
    except requests.RequestException as exc:
        target, _ = internal_target(webhook_url)
        raise ReplyNotDelivered(
            f"The reply was not sent: the webhook did not answer at {target} ({type(exc).__name__}). "
            "Set DBR_SIMULATOR_CALLBACK_ORIGIN to the address the web server listens on."
        ) from exc
    if response.status_code != 200:
        raise ReplyNotDelivered(_refusal(response.status_code))
    return params["MessageSid"]


def _refusal(status: int) -> str:
    if status == 403:
        return (
            "The reply was not sent: the webhook refused its signature (403). The web server must use the same "
            "TWILIO_AUTH_TOKEN, DBR_PUBLIC_SCHEME and DBR_PUBLIC_PORT as the page that sent it."
        )
    return f"The reply was not sent: the webhook answered {status}."
