"""What campaigns tells the apps above it, without importing them.

`campaigns` stores inbound texts, applies opt-outs and matches the lead; what a reply *means*
(classification, Sophie's answer) belongs to `sophie`, which stands above campaigns and so
may not be called from here. Sophie connects to these signals in its `apps.py`.
"""

from django.db import transaction
from django.dispatch import Signal

# A lead's text was stored as an inbound Message on its conversation and applied to the lead.
# Sent once the transaction that did this has committed, so receivers see the rows.
# Keyword arguments: message (the inbound campaigns.Message), at (the processing instant).
inbound_processed = Signal()


def inbound_processed_announce(*, message, at) -> None:
    """Sends `inbound_processed` after the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: inbound_processed.send(sender=type(message), message=message, at=at))
