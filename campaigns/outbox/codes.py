"""Twilio's error codes: what each means for the lead or the campaign, and the sentence staff read.

One table, read by the transports (which errors to retry, which are the sender's), by the send
service when Twilio refuses a message and by the status callbacks when it reports one failed: a
code has the same consequence whichever way it arrives.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from campaigns.models import Message
from campaigns.services import campaign_pause
from leads.models import Dataset, Suppression
from leads.services import lead_sms_incapable_mark
from leads.suppressions import suppression_add

logger = logging.getLogger(__name__)


class Kind(StrEnum):
    NOT_TEXTABLE = "not_textable"  # the number cannot take texts: the lead is flagged and leaves the cadence
    UNSUBSCRIBED = "unsubscribed"  # the recipient sent STOP to the sending number: the number is suppressed
    FILTERED = "filtered"  # carrier filtering: too much of it pauses the campaign
    ACCOUNT = "account"  # the sender's problem: the campaign pauses at once
    RATE_LIMITED = "rate_limited"  # the transport retries later
    OTHER = "other"  # only the message failed


@dataclass(frozen=True)
class ProviderCode:
    kind: Kind
    sentence: str


CODES = {
    "14107": ProviderCode(Kind.RATE_LIMITED, "The sending number's rate limit was reached."),
    "20003": ProviderCode(Kind.ACCOUNT, "Twilio refused the account's credentials."),
    "20005": ProviderCode(Kind.ACCOUNT, "The Twilio account is not active."),
    "20008": ProviderCode(Kind.ACCOUNT, "Test credentials were used against the live Twilio API."),
    "20429": ProviderCode(Kind.RATE_LIMITED, "Too many requests to Twilio at once."),
    "21211": ProviderCode(Kind.NOT_TEXTABLE, "The number is not a valid phone number."),
    "21212": ProviderCode(Kind.ACCOUNT, "The sending number is not valid."),
    "21408": ProviderCode(Kind.ACCOUNT, "The account has no permission to text this country."),
    "21606": ProviderCode(Kind.ACCOUNT, "The sending number cannot send SMS."),
    "21610": ProviderCode(Kind.UNSUBSCRIBED, "The recipient has unsubscribed (replied STOP) from this sending number."),
    "21612": ProviderCode(Kind.ACCOUNT, "The number cannot be reached from the sending number."),
    "21614": ProviderCode(Kind.NOT_TEXTABLE, "The number is not a mobile number."),
    "21659": ProviderCode(Kind.ACCOUNT, "The sending number is not a Twilio number."),
    "21660": ProviderCode(Kind.ACCOUNT, "The sending number does not belong to this Twilio account."),
    "30001": ProviderCode(Kind.OTHER, "The message was dropped: Twilio's queue overflowed."),
    "30002": ProviderCode(Kind.ACCOUNT, "The Twilio account is suspended."),
    "30003": ProviderCode(
        Kind.NOT_TEXTABLE, "The handset is unreachable (switched off or out of coverage for too long)."
    ),
    "30004": ProviderCode(Kind.OTHER, "The message was blocked by the recipient or their carrier."),
    "30005": ProviderCode(Kind.NOT_TEXTABLE, "The number is unknown or no longer active."),
    "30006": ProviderCode(Kind.NOT_TEXTABLE, "The number is a landline or its carrier cannot be reached."),
    "30007": ProviderCode(Kind.FILTERED, "The carrier filtered the message as spam."),
    "30008": ProviderCode(Kind.OTHER, "The message failed for an unknown reason at the carrier."),
    "30034": ProviderCode(Kind.OTHER, "The sender is not registered for this traffic (A2P 10DLC)."),
}


def codes_of(kind: Kind) -> frozenset[str]:
    return frozenset(code for code, entry in CODES.items() if entry.kind == kind)


ACCOUNT_ERROR_CODES = codes_of(Kind.ACCOUNT)
RATE_LIMITED_CODES = codes_of(Kind.RATE_LIMITED)
# What Twilio reports on undelivered/failed callbacks for UK mobile traffic (the simulator plays these).
COMMON_DELIVERY_FAILURES = (
    ("undelivered", "30003"),
    ("undelivered", "30005"),
    ("undelivered", "30006"),
    ("undelivered", "30007"),
    ("failed", "30005"),
)
# Carrier filtering pauses a campaign once it passes 5% of its last 100 sends; ordinary
# undelivered handsets never do, because they are the lead's problem, not the sender's.
PAUSE_WINDOW, PAUSE_ABOVE = 100, 5
ACCOUNT_REFUSED = "The SMS provider refused the account or the sending number."


def kind_of(code: str | None) -> Kind:
    entry = CODES.get(code or "")
    return entry.kind if entry else Kind.OTHER


def error_sentence(code: str | None) -> str:
    """What the code means, for staff, with the code itself to look up."""
    if not code:
        return ""
    entry = CODES.get(code)
    return f"Twilio {code}: {entry.sentence}" if entry else f"Twilio error {code}."


def provider_error_apply(*, message: Message, code: str | None, at: datetime, account_error: bool = False) -> None:
    """What a failed message's code does beyond the message: to its lead, its number or its campaign.

    `account_error`: the transport knew the sender was refused though no code came (HTTP 401/403).
    """
    kind = Kind.ACCOUNT if account_error else kind_of(code)
    if kind == Kind.NOT_TEXTABLE:
        lead_sms_incapable_mark(lead_id=message.lead_id, reason=error_sentence(code), at=at)
    elif kind == Kind.UNSUBSCRIBED and message.to_number:
        suppression_add(
            phone_number=message.to_number, source=Suppression.Source.TWILIO_21610, reason=error_sentence(code)
        )
    elif kind in (Kind.ACCOUNT, Kind.FILTERED):
        _pause_if_sender_problem(message, kind=kind, code=code, at=at)


def _pause_if_sender_problem(message: Message, *, kind: Kind, code: str | None, at: datetime) -> None:
    dataset = Dataset.objects.get(pk=message.lead.dataset_id)
    if dataset.campaign_status != Dataset.CampaignStatus.ACTIVE:
        return
    if kind == Kind.ACCOUNT:
        refused = error_sentence(code) or ACCOUNT_REFUSED
        reason = f"Paused automatically: {refused} Fix the account or the sending number, then resume."
    else:
        filtered = _filtered_recently(dataset)
        if filtered <= PAUSE_ABOVE:
            return
        reason = (
            f"Paused automatically: carriers filtered {filtered} of the last {PAUSE_WINDOW} messages as spam "
            f"(Twilio {code}). Review the wording and the sending number, then resume."
        )
    campaign_pause(dataset=dataset, at=at, reason=reason)
    logger.warning("Campaign of dataset %s paused: %s", dataset.pk, reason)


def _filtered_recently(dataset: Dataset) -> int:
    last = Message.objects.filter(
        lead__dataset=dataset, direction=Message.Direction.OUTBOUND, sent_at__isnull=False
    ).order_by("-sent_at")[:PAUSE_WINDOW]
    filtered = codes_of(Kind.FILTERED)
    return sum(1 for code in last.values_list("error_code", flat=True) if code in filtered)
