"""X-Twilio-Signature: the secret it is made with, signing (the simulator) and `@twilio_signed` (every webhook).

The URL checked is the one Twilio was given: our public scheme, the host the request names, and
`DBR_PUBLIC_PORT` when set — the same parts `clients.access.client_url` builds callback URLs from.
"""

import functools
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponseForbidden
from django.http.request import split_domain_port
from django.urls import reverse
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm

from clients.access import client_url, host_url
from clients.models import Client

logger = logging.getLogger(__name__)

# Signs simulated callbacks when no real token is configured (never accepted with the twilio backend).
DEV_AUTH_TOKEN = "dbr-simulator-dev-token"


def twilio_auth_token() -> str | None:
    """The secret Twilio's requests are signed with; the dev default only away from real Twilio."""
    if settings.TWILIO_AUTH_TOKEN:
        return settings.TWILIO_AUTH_TOKEN
    return None if settings.DBR_SMS_BACKEND == "twilio" else DEV_AUTH_TOKEN


def twilio_sign(url: str, params: dict[str, str]) -> str:
    return RequestValidator(twilio_auth_token()).compute_signature(url, params)


def twilio_signature_valid(request: HttpRequest) -> bool:
    """Checks all POSTed params against the URL Twilio was given, not the one a proxy passed on."""
    token, signature = twilio_auth_token(), request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    url = public_url(request)
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    return RequestValidator(token).validate(url, request.POST, signature, algorithm=algorithm)


def public_url(request: HttpRequest) -> str:
    """The URL Twilio was given for this request: our public scheme, the request's host name, and a port
    only when DBR_PUBLIC_PORT is set (a proxy's or the dev server's own port is never part of it)."""
    host, _ = split_domain_port(request.get_host())
    return host_url(host, request.get_full_path())


def twilio_webhook_urls(client: Client) -> dict[str, str]:
    """The URLs to paste into Twilio for this client's numbers: built by `host_url` on the client's
    primary host, as `public_url` rebuilds them when Twilio's signed request arrives."""
    return {
        "sms": client_url(client, reverse("twilio_sms")),
        "status": client_url(client, reverse("twilio_status")),
    }


def twilio_signed(view):
    """403 unless Twilio signed the request."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args, **kwargs):
        if not twilio_signature_valid(request):
            logger.warning("Twilio webhook refused: missing or wrong signature (%s)", request.get_full_path())
            return HttpResponseForbidden()
        return view(request, *args, **kwargs)

    checked.keeps_raw_input = True  # signed raw values: dbr.middleware.BadInputMiddleware lets them in
    return checked


def params_storable(params: dict[str, str]) -> dict[str, str]:
    """A signed webhook's values as they can be stored: NUL (which PostgreSQL refuses) becomes U+FFFD.
    Only after the signature was checked on the raw values."""
    return {key.replace("\x00", "\ufffd"): value.replace("\x00", "\ufffd") for key, value in params.items()}
