"""Opting a number out and back in, with what that means for texts still queued for it.

The rules that decide *whether* a text is an opt-out are pure functions in `campaigns/optout.py`;
this module applies them: the suppression list and the leads belong to `leads`, the queued
texts to the outbox.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from campaigns.models import Message
from campaigns.outbox.cancel import messages_cancel_for_number, messages_cancel_for_numbers
from campaigns.outbox.queue import message_queue
from clients.access import current_client
from clients.models import User
from leads.models import Lead, Suppression
from leads.suppressions import OPT_OUT_SOURCES, numbers_suppress, suppression_add, suppression_lift_opt_out


@transaction.atomic
def number_opt_out(
    *, phone_number: str, source: str, reason: str, at: datetime, actor: User | None = None
) -> Suppression:
    """Suppresses the number client-wide: every lead with it becomes REMOVED and every text still
    queued for it (cadence, nudge, planned replies) is cancelled with the reason."""
    suppression = suppression_add(phone_number=phone_number, source=source, reason=reason, actor=actor)
    # The overview's "opted out": set here, the one place a number opts out, and cleared by `number_opt_in`.
    Lead.objects.filter(phone_number=phone_number, opted_out_at__isnull=True).update(opted_out_at=at)
    messages_cancel_for_number(phone_number=phone_number, reason=f"Cancelled: the number opted out ({reason}).", at=at)
    return suppression


@transaction.atomic
def number_opt_in(*, phone_number: str, at: datetime) -> int:
    """START / UNSTOP: lifts an opt-out suppression (ours, or the provider's report that the number
    unsubscribed); import, staff and erasure rows stay. Leads return to the status they had; none
    re-enters the cadence by itself."""
    restored = suppression_lift_opt_out(phone_number=phone_number, reason="The number opted back in.")
    if not Suppression.objects.filter(phone_number=phone_number, source__in=OPT_OUT_SOURCES).exists():
        Lead.objects.filter(phone_number=phone_number, opted_out_at__isnull=False).update(opted_out_at=None)
    return restored


def opt_out_confirmation_queue(*, phone_number: str, to_number: str, at: datetime) -> Message | None:
    """The single text a suppressed number may receive, after an opt-out phrase (Twilio answers its own
    keywords): from the number the lead texted, naming the sender. None when no lead has the number or
    one was already queued since the number was suppressed."""
    suppression = Suppression.objects.filter(phone_number=phone_number).first()
    lead = Lead.objects.filter(phone_number=phone_number).order_by("-created_at").first()
    if suppression is None or lead is None:
        return None
    already = Message.objects.filter(
        to_number=phone_number, message_type=Message.Type.OPT_OUT_CONFIRMATION, created_at__gte=suppression.created_at
    )
    if already.exists():
        return None
    company = current_client().company_name
    return message_queue(
        lead=lead,
        content=f"{company}: you won't get any more texts from us. Reply START if that was a mistake.",
        message_type=Message.Type.OPT_OUT_CONFIRMATION,
        from_number=to_number,
        at=at,
    )


REMOVED_BY_STAFF = "Removed by staff from the leads table"


@transaction.atomic
def leads_remove_and_suppress(*, leads: QuerySet[Lead], actor: User | None, at: datetime) -> int:
    """Staff's "remove and suppress": every number of these leads joins the suppression list (source staff),
    every lead with one of those numbers becomes REMOVED, and every text still queued for them is cancelled.
    Returns the leads removed (with the same number in other datasets, there can be more than were chosen)."""
    numbers = sorted(set(leads.values_list("phone_number", flat=True)))
    if not numbers:
        return 0
    removed = numbers_suppress(numbers=numbers, source=Suppression.Source.STAFF, reason=REMOVED_BY_STAFF, actor=actor)
    messages_cancel_for_numbers(phone_numbers=numbers, reason=f"Cancelled: {REMOVED_BY_STAFF.lower()}.", at=at)
    return removed
