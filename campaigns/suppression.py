"""Opting a number out and back in, with what that means for texts still queued for it.

The rules that decide *whether* a text is an opt-out are pure functions in `campaigns/optout.py`;
this module applies them: the suppression list and the leads belong to `leads`, the queued
texts to the outbox.
"""

from datetime import datetime

from django.db import transaction

from campaigns.models import Message
from campaigns.outbox.cancel import messages_cancel_for_number
from campaigns.outbox.queue import message_queue
from clients.access import current_client
from clients.models import User
from leads.models import Lead, Suppression
from leads.suppressions import suppression_add, suppression_lift_opt_out


@transaction.atomic
def number_opt_out(
    *, phone_number: str, source: str, reason: str, at: datetime, actor: User | None = None
) -> Suppression:
    """Suppresses the number client-wide: every lead with it becomes REMOVED and every text still
    queued for it (cadence, nudge, planned replies) is cancelled with the reason."""
    suppression = suppression_add(phone_number=phone_number, source=source, reason=reason, actor=actor)
    messages_cancel_for_number(phone_number=phone_number, reason=f"Cancelled: the number opted out ({reason}).", at=at)
    return suppression


def lead_remove_and_suppress(*, lead: Lead, actor: User, at: datetime, reason: str = "") -> Suppression:
    """Staff take a lead out for good: its number joins the suppression list (every lead with it is
    REMOVED) and every text still queued for it is cancelled, as after an opt-out."""
    reason = reason.strip() or f"Removed by {actor.get_full_name()}"
    return number_opt_out(
        phone_number=lead.phone_number, source=Suppression.Source.STAFF, reason=reason, at=at, actor=actor
    )


@transaction.atomic
def number_opt_in(*, phone_number: str, at: datetime) -> int:
    """START / UNSTOP: lifts an opt-out suppression (ours, or the provider's report that the number
    unsubscribed); import, staff and erasure rows stay. Leads return to the status they had; none
    re-enters the cadence by itself."""
    return suppression_lift_opt_out(phone_number=phone_number, reason="The number opted back in.")


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
