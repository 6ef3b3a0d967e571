"""What Sophie does when a lead's reply has been stored and matched (campaigns' `inbound_processed`)."""

from datetime import datetime

from campaigns.models import Message
from leads.models import Lead
from leads.services import lead_sentiment_set, lead_status_change
from sophie.classify import Classification, classify

# A reply's reading never moves a lead back from these: staff or a booking put it there.
SETTLED = {Lead.ContactStatus.CALL_BOOKED, Lead.ContactStatus.CONVERTED, Lead.ContactStatus.REMOVED}


def reply_received(*, message: Message, at: datetime) -> Classification:
    """Classifies the reply in this process (no worker needed), keeps the verdict on the message, and —
    with the dataset's `auto_status_updates` — sets the lead's status and sentiment."""
    verdict = classify(message.content)
    Message.objects.filter(pk=message.pk).update(classification=verdict.to_dict())
    lead = Lead.objects.select_related("dataset__campaign_settings").get(pk=message.lead_id)
    options = lead.dataset.campaign_settings
    if options is None or not options.auto_status_updates or verdict.status == "UNCLEAR":
        return verdict
    if lead.contact_status not in SETTLED and verdict.status != lead.contact_status:
        lead_status_change(lead=lead, status=verdict.status, actor=None, reason=f"Reply read as {verdict.intent}")
    lead_sentiment_set(lead=lead, sentiment=verdict.sentiment.upper())
    return verdict
