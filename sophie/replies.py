"""What Sophie does when a lead's reply has been stored and matched (campaigns' `inbound_processed`)."""

import logging
from datetime import datetime

from django.db import transaction

from campaigns.models import Message
from leads.models import Lead
from leads.services import lead_sentiment_set, lead_status_change
from sophie.classify import COLD, HOT, UNCLEAR, WARM, Classification, classify
from sophie.llm import backend_get
from sophie.planning import reply_plan

log = logging.getLogger(__name__)

# A reply's reading never moves a lead back from these: staff or a booking put it there.
SETTLED = {Lead.ContactStatus.CALL_BOOKED, Lead.ContactStatus.CONVERTED, Lead.ContactStatus.REMOVED}
NO_ANSWER_INTENTS = {"auto_reply", "opt_out"}  # an out-of-office gets no reply; an opt-out gets silence


def reply_received(*, message: Message, at: datetime) -> Classification:
    """Classifies the reply in this process (no worker needed), keeps the verdict on the message, sets
    the lead's status and sentiment (with the dataset's `auto_status_updates`), then plans Sophie's answer."""
    verdict = reply_classify(message.content)
    Message.objects.filter(pk=message.pk).update(classification=verdict.to_dict())
    lead = Lead.objects.select_related("dataset__campaign_settings").get(pk=message.lead_id)
    lead_reading_apply(
        lead=lead, status=verdict.status, sentiment=verdict.sentiment, reason=f"Reply read as {verdict.intent}", at=at
    )
    _learn(message=message, verdict=verdict, at=at)
    if verdict.intent not in NO_ANSWER_INTENTS:
        reply_plan(inbound=message, at=at)
    return verdict


def _learn(*, message: Message, verdict: Classification, at: datetime) -> None:
    """What the reply teaches (docs/learning.md): the outcome of Sophie's text before it, for her lessons'
    figures, and a complaint in front of a person. Never in the way of the answer."""
    from sophie.insights.conversations import conversation_complaint_check
    from sophie.lessons import ai_reply_outcome_record

    try:
        with transaction.atomic():
            ai_reply_outcome_record(inbound=message, opted_out=verdict.opt_out, sentiment=verdict.sentiment)
            conversation_complaint_check(message=message, intent=verdict.intent, at=at)
    except Exception:
        log.exception("Learning from reply %s failed", message.pk)


def lead_reading_apply(*, lead: Lead, status: str, sentiment: str, reason: str, at: datetime) -> None:
    """With the dataset's `auto_status_updates`, a reading (the classifier's or Sophie's) sets the lead's status
    and sentiment; UNCLEAR changes nothing, and a settled lead keeps its status."""
    options = lead.dataset.campaign_settings
    if options is None or not options.auto_status_updates or status in ("", UNCLEAR):
        return
    if lead.contact_status not in SETTLED and status != lead.contact_status:
        lead_status_change(lead=lead, status=status, actor=None, reason=reason[:200], at=at)
    if sentiment:
        lead_sentiment_set(lead=lead, sentiment=sentiment.upper())


def reply_classify(text: str) -> Classification:
    """The offline reading; a model backend may refine status and sentiment of one the rules left UNCLEAR.
    It never touches an opt-out or a keyword: those are decided before it is asked."""
    verdict = classify(text)
    if verdict.opt_out or verdict.status != UNCLEAR:
        return verdict
    try:
        refined = backend_get().refine(text, verdict.to_dict())
    except Exception:
        log.exception("Refining a reply's reading failed; the offline reading stands")
        return verdict
    if not refined or refined.get("status") not in (HOT, WARM, COLD):
        return verdict  # a model never removes a lead: removal is the opt-out rules' alone
    return Classification(
        opt_out=False,
        status=refined["status"],
        intent=verdict.intent,
        sentiment=refined.get("sentiment") or verdict.sentiment,
        confidence=verdict.confidence,
        reason=f"{verdict.reason}; refined by the model",
    )
