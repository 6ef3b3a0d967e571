"""The only package that talks to SMS providers: one module per backend, chosen by DBR_SMS_BACKEND.

Each backend is built once per process and kept here, so the simulator remembers what it
sent and the locmem outbox is one list per process; `forget_transports()` drops them
(tests start each test with a fresh outbox).
"""

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from campaigns.transports.base import Transport
from campaigns.transports.locmem import LocmemTransport
from campaigns.transports.simulator import SimulatorTransport
from campaigns.transports.twilio import DEFAULT_TIMEOUT_SECONDS, TwilioTransport

BACKENDS = ("twilio", "simulator", "locmem")


def get_transport() -> Transport:
    return transport_for(settings.DBR_SMS_BACKEND)


def transport_for(backend: str) -> Transport:
    if backend == "twilio":
        return _twilio()
    if backend == "simulator":
        return _simulator()
    if backend == "locmem":
        return _locmem()
    raise ImproperlyConfigured(
        f"DBR_SMS_BACKEND={backend!r} is not a known SMS backend; use one of {', '.join(BACKENDS)}."
    )


def forget_transports() -> None:
    _twilio_transport.cache_clear()
    _simulator.cache_clear()
    _locmem.cache_clear()


def _twilio() -> TwilioTransport:
    if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
        raise ImproperlyConfigured("DBR_SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")
    timeout = float(getattr(settings, "TWILIO_TIMEOUT_SECONDS", None) or DEFAULT_TIMEOUT_SECONDS)
    return _twilio_transport(
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_API_BASE_URL or None, timeout
    )


@functools.lru_cache(maxsize=4)
def _twilio_transport(account_sid: str, auth_token: str, base_url: str | None, timeout: float) -> TwilioTransport:
    # One SDK client (and its connection pool) per configuration and process.
    return TwilioTransport(account_sid=account_sid, auth_token=auth_token, base_url=base_url, timeout=timeout)


@functools.cache
def _simulator() -> SimulatorTransport:
    return SimulatorTransport()


@functools.cache
def _locmem() -> LocmemTransport:
    return LocmemTransport()
