"""Texts sent to a client's numbers: stored first, processed after (architecture.md §5).

`inbound_receive` runs inside the webhook request and only writes; an exact opt-out keyword is
applied there too, so STOP holds before Twilio gets its answer. Everything else happens in
`inbound_process`, which a Celery task, the sweep, the cadence tick and `manage.py
process_inbound` all call: it turns one stored row into an inbound Message on the lead's
conversation and tells the apps above (Sophie) through `inbound_processed`.
"""

import logging
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q

from campaigns import optout
from campaigns.models import Conversation, InboundSms, Message
from campaigns.numbers import client_numbers
from campaigns.signals import inbound_processed_announce
from campaigns.suppression import number_opt_in, number_opt_out, opt_out_confirmation_queue
from campaigns.twilio_signature import params_storable
from clients.models import User
from leads import events
from leads.happenings import Happening, lead_happened
from leads.models import Dataset, Lead, Suppression
from leads.phones import normalise_phone
from leads.services import lead_leave_cadence
from leads.suppressions import OPT_OUT_SOURCES

log = logging.getLogger(__name__)

Outcome = InboundSms.Outcome
MAX_ATTEMPTS = 3
SWEEP_AFTER = timedelta(seconds=60)


class MissingParameter(ValueError):
    pass


def inbound_receive(*, params: dict[str, str], at: datetime) -> tuple[InboundSms, bool]:
    """The webhook's work: store the text and, for an exact opt-out keyword, apply it in the same
    transaction, committed on return. Any other text is one autocommitted statement."""
    row = _inbound_row(params, at)
    if not _is_keyword_opt_out(row):
        return _insert_or_get(row)
    with transaction.atomic():
        row, created = _insert_or_get(row)
        if created:  # a replay changes nothing
            inbound_keyword_apply(inbound=row, at=at)
    return row, created


def inbound_store(*, params: dict[str, str], at: datetime) -> tuple[InboundSms, bool]:
    """One row per MessageSid (a replay returns the stored row, unchanged); nothing else."""
    return _insert_or_get(_inbound_row(params, at))


def inbound_keyword_apply(*, inbound: InboundSms, at: datetime) -> bool:
    """Inside the webhook request: an exact opt-out keyword suppresses the number at once, whatever
    the To and whether or not a lead has the number. Processing still runs later."""
    if not _is_keyword_opt_out(inbound):
        return False
    number_opt_out(phone_number=inbound.from_number, source=Suppression.Source.OPT_OUT, reason="Replied STOP", at=at)
    return True


def _is_keyword_opt_out(row: InboundSms) -> bool:
    return optout.is_opt_out_keyword(row.body) and _is_phone(row.from_number)


def _inbound_row(params: dict[str, str], at: datetime) -> InboundSms:
    """The unsaved row. NULs become U+FFFD only here, after the signature was checked on the raw values."""
    params = params_storable(params)
    sid, sender = params.get("MessageSid") or params.get("SmsSid"), params.get("From")
    if not sid or not sender:
        raise MissingParameter("A Twilio SMS webhook needs both MessageSid and From.")
    return InboundSms(
        message_sid=sid,
        from_number=_normalised(sender) or sender,
        to_number=params.get("To", ""),
        body=params.get("Body", ""),
        media=_media(params),
        params=params,
        received_at=at,
    )


def _insert_or_get(row: InboundSms) -> tuple[InboundSms, bool]:
    """`INSERT … ON CONFLICT (message_sid) DO NOTHING`: a fresh text is one statement with no savepoint
    (bench/inbound); a replay, or the same SID committed by a concurrent request, reads the stored row."""
    fields, sql = _insert_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields])
        inserted = cursor.fetchone()
    if inserted is None:
        return InboundSms.objects.get(message_sid=row.message_sid), False
    row.id, row.created_at = inserted
    row._state.adding, row._state.db = False, connection.alias
    return row, True


@cache
def _insert_sql() -> tuple[list, str]:
    """Every column the model gives a value; the db_default-only ones (created_at) come back from RETURNING."""
    fields = [f for f in InboundSms._meta.concrete_fields if f.has_default() or not f.has_db_default()]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(InboundSms._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT (message_sid) DO NOTHING RETURNING id, created_at"
    )
    return fields, sql


def _normalised(raw: str) -> str | None:
    result = normalise_phone(raw, allow_international=True, allow_fiction=settings.DBR_ALLOW_FICTION_NUMBERS)
    return result.e164


def _is_phone(number: str) -> bool:
    return number.startswith("+") and number[1:].isdigit()


def _media(params: dict[str, str]) -> list[dict[str, str]]:
    try:
        count = int(params.get("NumMedia") or 0)
    except ValueError:
        count = 0
    found = []
    for n in range(min(count, 10)):  # Twilio sends at most 10 attachments
        url = params.get(f"MediaUrl{n}")
        if url:
            found.append({"url": url, "content_type": params.get(f"MediaContentType{n}", "")})
    return found


# --- Attaching a text that matched no lead ------------------------------------------------------

ATTACHABLE = (Outcome.UNMATCHED, Outcome.ERROR)


class NotAttachable(ValueError):
    pass


def inbound_attach(*, inbound: InboundSms, lead: Lead, at: datetime) -> InboundSms:
    """Staff say whose text it is: the row is processed again as that lead's reply, by the same code as
    any other text (conversation, lead fields, leaving the cadence, Sophie's reading)."""
    with transaction.atomic():  # the reset row stays locked until processed: the sweep skips it
        reset = InboundSms.objects.filter(pk=inbound.pk, outcome__in=ATTACHABLE).update(
            processed_at=None, outcome="", error="", attempts=0, lead=None, message=None
        )
        if not reset:
            raise NotAttachable("This text is no longer waiting for a lead: it was attached or processed meanwhile.")
        return _process_one(inbound.pk, at, lead)


@transaction.atomic
def inbound_lead_create(
    *, inbound: InboundSms, dataset: Dataset, first_name: str, last_name: str, actor: User | None, at: datetime
) -> InboundSms:
    """A new lead in `dataset` with the text's number, then the text attached to it."""
    if not _is_phone(inbound.from_number):
        raise NotAttachable(f"“{inbound.from_number}” is not a phone number, so it cannot become a lead.")
    if Lead.objects.filter(dataset=dataset, phone_number=inbound.from_number).exists():
        raise NotAttachable(f"{dataset.name} already has a lead with {inbound.from_number}: attach the text to it.")
    lead = Lead.objects.create(
        dataset=dataset, first_name=first_name, last_name=last_name or None, phone_number=inbound.from_number
    )
    events.lead_imported(lead, actor=actor)
    return inbound_attach(inbound=inbound, lead=lead, at=at)


# --- Processing -------------------------------------------------------------------------------


def inbound_process(*, inbound_id, at: datetime) -> InboundSms | None:
    """Processes this row and every earlier unprocessed row of the same number, oldest first (an opt-in
    must never overtake the opt-out before it). None when another process holds it or it is done."""
    row = InboundSms.objects.filter(pk=inbound_id, processed_at=None).only("from_number", "received_at").first()
    if row is None:
        return None
    earlier = InboundSms.objects.filter(
        from_number=row.from_number, processed_at=None, received_at__lte=row.received_at
    ).order_by("received_at", "created_at")
    done = None
    for pk in earlier.values_list("pk", flat=True):
        done = _process_one(pk, at) or done
    return done


def inbound_process_pending(*, at: datetime, older_than: timedelta = timedelta(0), limit: int = 1000) -> int:
    """Every stored row not yet processed (received before `at - older_than`), oldest first: the sweep,
    the cadence tick and `manage.py process_inbound`."""
    pending = InboundSms.objects.filter(processed_at=None, received_at__lte=at - older_than).order_by(
        "received_at", "created_at"
    )
    count = 0
    for pk in list(pending.values_list("pk", flat=True)[:limit]):
        count += _process_one(pk, at) is not None
    return count


def inbound_unprocessed_exists(*, at: datetime, older_than: timedelta = SWEEP_AFTER) -> bool:
    """Cheap (a partial index): whether the sweep has anything to do in this schema."""
    return InboundSms.objects.filter(processed_at=None, received_at__lte=at - older_than).exists()


def _process_one(pk, at: datetime, lead: Lead | None = None) -> InboundSms | None:
    with transaction.atomic():
        # SKIP LOCKED: a second worker on the same row moves on; processed_at makes the first one final.
        row = InboundSms.objects.select_for_update(skip_locked=True).filter(pk=pk, processed_at=None).first()
        if row is None:
            return None
        row.attempts += 1
        try:
            with transaction.atomic():
                _apply(row, at, lead)
            row.processed_at, row.error = at, ""
        except Exception as exc:
            log.exception("Inbound text %s could not be processed", row.message_sid)
            _failed(row, exc, at)
        row.save()
    # An opt-in only restores what the opt-out took away: it is not a reply for Sophie to read.
    if row.message_id and row.outcome in (Outcome.MATCHED, Outcome.OPTED_OUT):
        inbound_processed_announce(message=row.message, at=at)
    return row


def _failed(row: InboundSms, exc: Exception, at: datetime) -> None:
    """Rolled back: tried again by the sweep, up to three times, then shown to staff as an error."""
    row.lead, row.message, row.outcome = None, None, ""
    row.error = f"{type(exc).__name__}: {exc}"
    if row.attempts >= MAX_ATTEMPTS:
        row.processed_at, row.outcome = at, Outcome.ERROR


def _apply(row: InboundSms, at: datetime, lead: Lead | None = None) -> None:
    """`lead` is the one staff chose for a text that matched none; otherwise it is looked up."""
    if row.to_number not in client_numbers():
        row.outcome = Outcome.FOREIGN_TO
        return
    if lead is None and _is_phone(row.from_number):
        lead = _lead_for(row.from_number)
    row.lead = lead
    if optout.is_carrier_auto_reply(row.body):
        row.outcome = Outcome.AUTO_REPLY
        return
    row.outcome = _opt_out_or_in(row, at) or (Outcome.MATCHED if lead else Outcome.UNMATCHED)
    if lead is not None:
        row.message = _record_reply(row, lead, at)


def _opt_out_or_in(row: InboundSms, at: datetime) -> str | None:
    if not _is_phone(row.from_number):
        return None
    if optout.is_opt_out_keyword(row.body):
        return Outcome.OPTED_OUT  # applied by the webhook before it answered
    phrase = optout.opt_out_phrase(row.body)
    if phrase:
        wrong = optout.phrase_kind(phrase) == optout.WRONG_NUMBER
        source = Suppression.Source.WRONG_NUMBER if wrong else Suppression.Source.OPT_OUT
        number_opt_out(phone_number=row.from_number, source=source, reason=f"Replied “{row.body[:80]}”", at=at)
        opt_out_confirmation_queue(phone_number=row.from_number, to_number=row.to_number, at=at)
        return Outcome.OPTED_OUT
    if _opts_in(row) and not _opted_out_since(row):
        number_opt_in(phone_number=row.from_number, at=at)
        return Outcome.OPTED_IN
    return None


def _opts_in(row: InboundSms) -> bool:
    if optout.is_opt_in_keyword(row.body):
        return True
    # YES counts only for a number that an opt-out suppressed: the suppressions an opt-in may lift.
    lifted = Suppression.objects.filter(phone_number=row.from_number, source__in=OPT_OUT_SOURCES)
    return optout.is_yes(row.body) and lifted.exists()


def _opted_out_since(row: InboundSms) -> bool:
    """An opt-in counts only if no opt-out from the number arrived after it."""
    later = InboundSms.objects.filter(from_number=row.from_number, received_at__gt=row.received_at)
    return any(
        optout.is_opt_out_keyword(body) or optout.opt_out_phrase(body) for body in later.values_list("body", flat=True)
    )


def _lead_for(number: str) -> Lead | None:
    """The lead we texted last from this number, else the newest lead with it."""
    leads = Lead.objects.filter(phone_number=number).annotate(
        last_out=Max("messages__sent_at", filter=Q(messages__direction=Message.Direction.OUTBOUND))
    )
    return leads.order_by(F("last_out").desc(nulls_last=True), "-created_at").first()


def _record_reply(row: InboundSms, lead: Lead, at: datetime) -> Message:
    conversation, _ = Conversation.objects.get_or_create(
        lead=lead, defaults={"dataset_id": lead.dataset_id, "started_at": row.received_at}
    )
    message = Message.objects.create(
        conversation=conversation,
        lead=lead,
        content=row.body,
        direction=Message.Direction.INBOUND,
        message_type=Message.Type.REPLY,
        from_number=row.from_number,
        to_number=row.to_number,
        status=Message.Status.RECEIVED,
        twilio_sid=row.message_sid,  # unique: one inbound Message per text, whoever processes it
        sent_at=row.received_at,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1, last_message_at=row.received_at
    )
    Lead.objects.filter(pk=lead.pk).update(
        reply_received_at=row.received_at if lead.reply_received_at is None else lead.reply_received_at,
        last_message_at=row.received_at,
        latest_lead_reply=row.body,
        total_messages=F("total_messages") + 1,
    )
    lead_leave_cadence(leads=Lead.objects.filter(pk=lead.pk), reason="The lead replied.", at=at)
    events.lead_replied(lead, message_id=message.pk, text=row.body)
    lead_happened(lead=lead, kind=Happening.REPLIED, at=at, data={"message_id": str(message.pk), "text": row.body})
    return message


def inbound_reprocess(*, inbound: InboundSms, at: datetime) -> InboundSms | None:
    """Staff's second try at a text that ended in `error` (after a fix or an outage): its attempts start
    again and it is processed now. None, and nothing changed, for any other row. Never a second Message:
    the failed tries were rolled back, and the inbound Message is unique on the text's SID."""
    reset = InboundSms.objects.filter(pk=inbound.pk, outcome=Outcome.ERROR).update(
        processed_at=None, outcome="", attempts=0, error=""
    )
    if not reset:
        return None
    inbound_process(inbound_id=inbound.pk, at=at)
    inbound.refresh_from_db()  # also when a worker took it meanwhile: its state as it is now
    return inbound
