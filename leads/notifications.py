"""What a lead's team is told: the lead-side wrapper around clients' notifications (who, what, where)."""

from datetime import datetime

from clients.access import current_client
from clients.models import Notification, User
from clients.notifications import notification_recipients, notify
from leads.models import Lead

TITLES = {
    Notification.Kind.HOT: "Hot lead: {name}",
    Notification.Kind.HANDOFF: "{name} needs a person",
    Notification.Kind.BOOKED: "Call booked with {name}",
    Notification.Kind.BOOKING_CANCELLED: "{name} cancelled their call",
}


def lead_notify(*, lead: Lead, kind: str, reason: str, at: datetime, actor: User | None = None) -> list[Notification]:
    """Tells the lead's assigned rep, else the owners and admins; never the person who caused it."""
    client = current_client()
    users = [u for u in notification_recipients(client=client, assignee=lead.assigned_to) if u != actor]
    if not users:
        return []
    name = lead.full_name or lead.phone_number
    return notify(
        client=client, users=users, kind=kind, title=TITLES[kind].format(name=name), body=reason,
        path=f"/leads/{lead.pk}/", lead_id=lead.pk, at=at,
    )  # fmt: skip
