"""The one door every lead event worth telling the outside world passes through.

`lead.replied`, `lead.hot`, `lead.handoff`, `lead.booked` and `lead.opted_out` are recorded here for the
client's outbound webhook (n8n or any URL; `leads/outbound.py`), in the transaction that caused them, so an
event exists if and only if what it reports happened. Delivery is a worker's job: a slow or failing endpoint
never slows a reply.
"""

from datetime import datetime
from enum import StrEnum

from leads.models import Lead
from leads.outbound import outbound_event_record


class Happening(StrEnum):
    REPLIED = "lead.replied"
    HOT = "lead.hot"
    HANDOFF = "lead.handoff"
    BOOKED = "lead.booked"
    OPTED_OUT = "lead.opted_out"


def lead_happened(*, lead: Lead, kind: Happening, at: datetime, data: dict | None = None) -> None:
    outbound_event_record(lead=lead, kind=kind, at=at, data=data or {})
