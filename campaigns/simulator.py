"""Status callbacks as Twilio would send them, for the simulator SMS backend (the demo).

The sender signs each callback now (it holds the token) and queues one short task per
callback; the worker only POSTs. Callbacks are independent tasks, so they may arrive out
of order — as Twilio's do.
"""

import logging
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from celery import current_app, shared_task
from django.conf import settings
from django.db import connection
from twilio.request_validator import RequestValidator

from campaigns import transports

logger = logging.getLogger(__name__)

CALLBACK_TIMEOUT_SECONDS = 10


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


def sign(url: str, params: dict[str, str]) -> str:
    return RequestValidator(transports.twilio_auth_token()).compute_signature(url, params)


def schedule_callbacks(
    *, url: str, sid: str, to: str, from_: str, final: str, error_code: str | None, delay: float
) -> None:
    """Queues "sent" (unless the message failed outright) and then its final status."""
    statuses = [(final, error_code)] if final == "failed" else [("sent", None), (final, error_code)]
    for n, (status, code) in enumerate(statuses):
        params = callback_params(sid=sid, status=status, to=to, from_=from_, error_code=code)
        args = [url, params, sign(url, params)]
        countdown = delay * (n + 1)
        if current_app.conf.task_always_eager:
            # Eager mode would run the POST inside the sender and ignore the countdown.
            _post_later(countdown, args)
        else:
            post_status_callback.apply_async(
                args=args, countdown=countdown, headers={"_schema_name": connection.schema_name}
            )


def _post_later(countdown: float, args: list) -> None:
    import threading

    timer = threading.Timer(countdown, post_status_callback.run, args=args)
    timer.daemon = True
    timer.start()


def internal_target(url: str) -> tuple[str, str]:
    """(URL to connect to, Host header): *.localhost does not resolve in Python (DESIGN.md §1b)."""
    parts = urlsplit(url)
    origin = getattr(settings, "DBR_SIMULATOR_CALLBACK_ORIGIN", None)
    if not origin:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        origin = f"{parts.scheme}://127.0.0.1:{port}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return origin.rstrip("/") + path, parts.netloc


@shared_task(ignore_result=True)
def post_status_callback(url: str, params: dict[str, str], signature: str) -> int | None:
    target, host = internal_target(url)
    try:
        response = requests.post(
            target,
            data=params,
            headers={"Host": host, "X-Twilio-Signature": signature},
            timeout=CALLBACK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        logger.warning("Simulator: %s callback for %s not delivered: %s", params["MessageStatus"], url, exc)
        return None
    if response.status_code >= 300:
        logger.warning("Simulator: %s callback for %s answered %s", params["MessageStatus"], url, response.status_code)
    return response.status_code
