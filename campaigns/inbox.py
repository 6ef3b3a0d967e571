"""The inbox's one write: a conversation opened by anyone on the team is read for everyone."""

from datetime import datetime

from campaigns.models import Message
from campaigns.selectors import UNREAD
from leads.models import Lead


def conversation_mark_read(*, lead: Lead, at: datetime) -> int:
    """Sets `read_at` on the lead's unread inbound texts; how many there were."""
    return Message.objects.filter(UNREAD, lead=lead).update(read_at=at)
