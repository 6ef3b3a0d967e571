"""What every SMS backend promises: `send` once, `find_sent` to learn whether a send got through.

Every failure leaves as a `TransportError` whose `kind` tells the send task what it may do
(at most once, see docs/transports.md): retry only when the request cannot have reached the
provider, never resend after an ambiguous failure, give up on a permanent one.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.outbox.codes import ACCOUNT_ERROR_CODES

RETRY, AMBIGUOUS, PERMANENT = "retry", "ambiguous", "permanent"

# The provider's clock and ours disagree a little; reconciliation looks this far before the attempt.
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

    @property
    def brief(self) -> str:
        """A word or two for an outage's reason ("Twilio failing: 500 since 10:42")."""
        if self.status:
            return str(self.status)
        return "no connection" if self.kind == RETRY else "no answer"

    def __repr__(self) -> str:
        return f"TransportError({self.message!r}, kind={self.kind!r}, code={self.code!r}, status={self.status!r})"


@dataclass(frozen=True)
class SendResult:
    sid: str
    status: str


class Transport:
    name = "The SMS provider"  # as staff read it in a paused campaign's reason

    def send(
        self, *, to: str, from_: str, body: str, status_callback: str | None, validity_period: int | None
    ) -> SendResult:
        raise NotImplementedError

    def find_sent(self, *, to: str, from_: str, sent_after: datetime, body: str) -> str | None:
        """SID of a message to `to` from `from_` with this body created after `sent_after`, else None."""
        raise NotImplementedError


def same_body(theirs: str | None, ours: str) -> bool:
    return (theirs or "").strip() == ours.strip()
