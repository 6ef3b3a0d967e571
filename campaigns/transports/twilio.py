"""The Twilio backend: the SDK with a timeout, and every SDK or HTTP failure mapped onto the three kinds."""

from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import MaxRetryError, NewConnectionError

from campaigns.outbox.codes import RATE_LIMITED_CODES
from campaigns.transports.base import (
    AMBIGUOUS,
    PERMANENT,
    RECONCILE_CLOCK_SLACK,
    RETRY,
    SendResult,
    Transport,
    TransportError,
    same_body,
)

DEFAULT_TIMEOUT_SECONDS = 10.0


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
    name = "Twilio"

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
            if (created is None or created >= since) and same_body(message.body, body):
                return message.sid
        return None
