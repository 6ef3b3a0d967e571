"""The one door every lead event worth telling the outside world passes through.

`lead.replied`, `lead.hot`, `lead.handoff`, `lead.booked` and `lead.opted_out` are recorded here for the
client's outbound webhook (n8n or any URL; `leads/outbound.py`), in the transaction that caused them, so an
event exists if and only if what it reports happened. Delivery is a worker's job: a slow or failing endpoint
never slows a reply.
"""

from datetime import datetime
from enum import StrEnum

from leads.models import Lead, WebhookDelivery
from leads.outbound import outbound_event_record


class Happening(StrEnum):
    REPLIED = "lead.replied"
    HOT = "lead.hot"
    HANDOFF = "lead.handoff"
    BOOKED = "lead.booked"
    OPTED_OUT = "lead.opted_out"
    PUSHED = "lead.pushed"  # by hand, from the lead page (can_push_to_n8n)


def lead_happened(*, lead: Lead, kind: Happening, at: datetime, data: dict | None = None) -> WebhookDelivery | None:
    """The event's delivery row, or None when the client has no webhook URL."""
    return outbound_event_record(lead=lead, kind=kind, at=at, data=data or {})
