"""Cal.com's side of bookings (docs/bookings.md): X-Cal-Signature-256 — hex HMAC-SHA256 of the raw body
with the client's own secret — and the demo's test booking, signed and posted as Cal.com posts one."""

import hashlib
import hmac
from datetime import datetime, timedelta

import requests
from django.urls import reverse

from campaigns.transports.simulator import internal_target
from clients.access import client_url
from clients.models import Client
from leads.bookings import demo_booking_body
from leads.models import Lead

HEADER = "X-Cal-Signature-256"
DEMO_BOOKING_TIMEOUT_SECONDS = 10
DEMO_BOOKING_LEAD_TIME = timedelta(days=1)


def cal_sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def cal_signature_valid(*, client: Client, body: bytes, signature: str | None) -> bool:
    """False when the client has no secret, the header is missing, or it was made with another secret."""
    secret = (client.cal_webhook_secret or "").strip()
    if not secret or not signature:
        return False
    return hmac.compare_digest(cal_sign(secret, body), signature.strip().lower())


class DemoBookingNotDelivered(Exception):
    """The webhook did not take the test booking; the message says why."""


def demo_booking_send(*, client: Client, lead: Lead, at: datetime) -> str:
    """Posts a BOOKING_CREATED for the lead (a call tomorrow at this time) to our own /webhooks/cal/,
    signed with the client's secret, so it takes a real delivery's road. Returns the webhook's answer."""
    body = demo_booking_body(lead=lead, at=at, start=(at + DEMO_BOOKING_LEAD_TIME).replace(second=0, microsecond=0))
    target, host = internal_target(client_url(client, reverse("cal_webhook")))
    headers = {"Host": host, "Content-Type": "application/json", HEADER: cal_sign(client.cal_webhook_secret, body)}
    try:
        response = requests.post(
            target, data=body, headers=headers, timeout=DEMO_BOOKING_TIMEOUT_SECONDS, allow_redirects=False
        )
    except requests.RequestException as exc:
        raise DemoBookingNotDelivered(
            f"The test booking was not sent: the webhook did not answer at {target} ({type(exc).__name__}). "
            "Set DBR_SIMULATOR_CALLBACK_ORIGIN to the address the web server listens on."
        ) from exc
    if response.status_code != 200:
        raise DemoBookingNotDelivered(f"The test booking was not taken: the webhook answered {response.status_code}.")
    return response.text
