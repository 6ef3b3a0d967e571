"""Cal.com bookings (docs/bookings.md): each lead's short booking link, and every webhook delivery stored
once on (uid, trigger) and applied to the lead it names.

A delivery is matched to a lead by the booking we already know, then `metadata.leadId` (the short link
puts it there), then an attendee's e-mail, then an attendee's phone. One that matches nobody is kept for
staff (the inbox lists it); a cancellation that arrives before its booking waits for it.
"""

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from clients.access import client_url, current_client
from clients.models import Notification
from leads import events
from leads.happenings import Happening, lead_happened
from leads.models import BookingEvent, Lead
from leads.notifications import lead_notify
from leads.phones import normalise_phone
from leads.services import lead_leave_cadence, lead_status_change

CREATED, RESCHEDULED, CANCELLED = "BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED"
TOKEN_BYTES = 6  # 8 URL-safe characters: the link stays short enough for a 2-segment text
EXAMPLE_TOKEN = "x" * 8  # previews show a link as long as the real one
DEFAULT_CAL_ORIGIN = "https://cal.com"
Outcome = BookingEvent.Outcome


# --- The short link --------------------------------------------------------------------------


def lead_booking_token(*, lead: Lead) -> str:
    """The lead's token, given on first use (imports write leads in bulk, so not at creation)."""
    if lead.booking_token:
        return lead.booking_token
    token = secrets.token_urlsafe(TOKEN_BYTES)
    if not Lead.objects.filter(pk=lead.pk, booking_token__isnull=True).update(booking_token=token):
        token = Lead.objects.values_list("booking_token", flat=True).get(pk=lead.pk)  # another process won
    lead.booking_token = token
    return token


def lead_booking_link(*, lead, cal_link: str | None) -> str:
    """What {booking_link} stands for in a text to this lead: its short link on the client host, or ""
    when the dataset has no Cal.com link. An unsaved example lead (previews) gets a placeholder token."""
    if not (cal_link or "").strip():
        return ""
    token = lead_booking_token(lead=lead) if isinstance(lead, Lead) and lead.pk else EXAMPLE_TOKEN
    return client_url(current_client(), f"/b/{token}")


def booking_link_example(cal_link: str | None) -> str:
    """A link as long as a lead's, for previews and test sends (no lead is given a token by them)."""
    return client_url(current_client(), f"/b/{EXAMPLE_TOKEN}") if (cal_link or "").strip() else ""


def lead_for_booking_token(token: str) -> Lead | None:
    return Lead.objects.select_related("dataset__campaign_settings").filter(booking_token=token).first()


def booking_page_url(*, lead: Lead, cal_link: str) -> str:
    """The dataset's Cal.com link with the lead's id, name, e-mail and phone prefilled (Cal.com's query
    parameters); the id comes back in the webhook's `metadata.leadId`."""
    parts = urlsplit(cal_link.strip())
    prefill = {
        "metadata[leadId]": str(lead.pk),
        "name": lead.full_name,
        "email": lead.email or "",
        "attendeePhoneNumber": lead.phone_number,
    }
    query = "&".join(filter(None, [parts.query, urlencode({k: v for k, v in prefill.items() if v})]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# --- Deliveries --------------------------------------------------------------------------------


class MalformedDelivery(ValueError):
    """The body is not a Cal.com webhook: the sender is told why (400)."""


@dataclass(frozen=True)
class Delivery:
    trigger: str
    uid: str
    body: dict

    @property
    def payload(self) -> dict:
        return self.body["payload"]


def booking_delivery_parse(raw: bytes) -> Delivery | None:
    """The delivery in a raw body; None for one that names no booking (Cal.com's PING, say)."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedDelivery(f"The body is not JSON: {exc}.") from exc
    if not isinstance(body, dict) or not isinstance(body.get("triggerEvent"), str):
        raise MalformedDelivery("The body has no triggerEvent.")
    payload = body.get("payload")
    if not isinstance(payload, dict):
        raise MalformedDelivery("The body has no payload object.")
    uid = payload.get("uid")
    if not uid or not isinstance(uid, str):
        return None
    return Delivery(trigger=body["triggerEvent"], uid=uid, body=body)


def booking_receive(*, delivery: Delivery, at: datetime) -> tuple[BookingEvent, bool]:
    """Stores the delivery and applies it, in one transaction; a replay is found and changes nothing."""
    existing = BookingEvent.objects.filter(uid=delivery.uid, trigger_event=delivery.trigger).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            event = BookingEvent.objects.create(
                uid=delivery.uid,
                trigger_event=delivery.trigger,
                payload=delivery.body,
                start_time=_start_time(delivery.payload),
                outcome=Outcome.IGNORED,
            )
            _apply(event, at)
    except IntegrityError:  # the same delivery, concurrently: the other one applied it
        return BookingEvent.objects.get(uid=delivery.uid, trigger_event=delivery.trigger), False
    return event, True


def _apply(event: BookingEvent, at: datetime) -> None:
    appliers = {CREATED: _created, RESCHEDULED: _rescheduled, CANCELLED: _cancelled}
    applier = appliers.get(event.trigger_event)
    if applier is None:
        _settle(event, Outcome.IGNORED, None, f"{event.trigger_event} changes no lead.")
    else:
        applier(event, booking_lead_match(event.payload["payload"], uid=event.uid), at)


def _settle(event: BookingEvent, outcome: str, lead: Lead | None, detail: str) -> None:
    event.outcome, event.lead, event.detail = outcome, lead, detail
    event.save(update_fields=["outcome", "lead", "detail"])


def booking_lead_match(payload: dict, *, uid: str) -> Lead | None:
    """The lead a booking is for: the one holding this booking (or the one it replaces), then
    `metadata.leadId`, then an attendee's e-mail, then an attendee's phone number."""
    leads = Lead.objects.select_related("dataset__campaign_settings").order_by(
        F("last_message_at").desc(nulls_last=True), "-created_at"
    )
    known = [u for u in (uid, payload.get("rescheduleUid")) if isinstance(u, str) and u]
    if lead := leads.filter(cal_booking_id__in=known).first():
        return lead
    metadata = payload.get("metadata") if isinstance(payload.get("metadata"), dict) else {}
    if (lead_id := _uuid(metadata.get("leadId"))) and (lead := leads.filter(pk=lead_id).first()):
        return lead
    attendees = [a for a in payload.get("attendees") or [] if isinstance(a, dict)]
    for email in filter(None, (_text(a.get("email")) for a in attendees)):
        if lead := leads.filter(email__iexact=email).first():
            return lead
    for number in _attendee_numbers(payload, attendees):
        if lead := leads.filter(phone_number=number).first():
            return lead
    return None


def _attendee_numbers(payload: dict, attendees: list[dict]) -> list[str]:
    responses = payload.get("responses") if isinstance(payload.get("responses"), dict) else {}
    answer = responses.get("attendeePhoneNumber")
    raw = [_text(a.get("phoneNumber")) for a in attendees]
    raw.append(_text(answer.get("value") if isinstance(answer, dict) else answer))
    fiction = settings.DBR_ALLOW_FICTION_NUMBERS
    numbers = (normalise_phone(r, allow_international=True, allow_fiction=fiction).e164 for r in raw if r)
    return list(dict.fromkeys(n for n in numbers if n))


def _created(event: BookingEvent, lead: Lead | None, at: datetime) -> None:
    if lead is None:
        _settle(event, Outcome.UNMATCHED, None, "No lead has this booking's lead id, e-mail or phone number.")
        return
    _book(lead, event, at, reason="Booked a call on Cal.com")
    _settle(event, Outcome.APPLIED, lead, "Call booked.")
    # A cancellation that came first is applied now, in order.
    waiting = BookingEvent.objects.filter(uid=event.uid, trigger_event=CANCELLED, outcome=Outcome.WAITING).first()
    if waiting is not None:
        _cancelled(waiting, lead, at)


def _rescheduled(event: BookingEvent, lead: Lead | None, at: datetime) -> None:
    if lead is None:
        _settle(event, Outcome.UNMATCHED, None, "No lead has this booking, its lead id, e-mail or phone number.")
        return
    _book(lead, event, at, reason="Moved their call on Cal.com", rescheduled=True)
    _settle(event, Outcome.APPLIED, lead, "Call moved.")


def _cancelled(event: BookingEvent, lead: Lead | None, at: datetime) -> None:
    booked = BookingEvent.objects.filter(uid=event.uid, trigger_event__in=[CREATED, RESCHEDULED]).exists()
    if not booked:
        _settle(event, Outcome.WAITING, lead, "Cancelled before the booking reached us; applied when it does.")
        return
    if lead is None:
        _settle(event, Outcome.UNMATCHED, None, "No lead holds this booking.")
        return
    if lead.cal_booking_id != event.uid:
        _settle(event, Outcome.IGNORED, lead, "Not the lead's current booking (moved or replaced).")
        return
    lead.call_booked, lead.call_booked_time, lead.cal_booking_id, lead.cal_booking_url = False, None, None, None
    lead.save(update_fields=["call_booked", "call_booked_time", "cal_booking_id", "cal_booking_url", "updated_at"])
    reason = "Cancelled their call on Cal.com"
    # The rep hears of the cancellation, not of a "new" hot lead as well.
    lead_status_change(lead=lead, status=Lead.ContactStatus.HOT, actor=None, reason=reason, at=at, notify=False)
    lead_notify(lead=lead, kind=Notification.Kind.BOOKING_CANCELLED, reason=f"{reason}.", at=at)
    _settle(event, Outcome.APPLIED, lead, "Call cancelled; the lead is HOT again.")


def _book(lead: Lead, event: BookingEvent, at: datetime, *, reason: str, rescheduled: bool = False) -> None:
    """The lead has a call at the event's time: CALL_BOOKED, out of the cadence, on the timeline, the rep
    told, the outside world told."""
    url = booking_url(lead=lead, uid=event.uid)
    lead.call_booked, lead.call_booked_time = True, event.start_time
    lead.cal_booking_id, lead.cal_booking_url = event.uid, url
    lead.save(update_fields=["call_booked", "call_booked_time", "cal_booking_id", "cal_booking_url", "updated_at"])
    lead_status_change(lead=lead, status=Lead.ContactStatus.CALL_BOOKED, actor=None, reason=reason, at=at)
    start = event.start_time.isoformat() if event.start_time else None
    events.call_booked(lead, booking_id=event.uid, start=start)
    lead_leave_cadence(leads=Lead.objects.filter(pk=lead.pk), reason="A call is booked", at=at)
    when = timezone.localtime(event.start_time).strftime("%-d %b %H:%M") if event.start_time else "a time to confirm"
    lead_notify(lead=lead, kind=Notification.Kind.BOOKED, reason=f"{reason}: {when}.", at=at)
    data = {"booking_id": event.uid, "start": start, "url": url, "rescheduled": rescheduled}
    lead_happened(lead=lead, kind=Happening.BOOKED, at=at, data=data)


def booking_url(*, lead: Lead, uid: str) -> str:
    """The booking's own page on the Cal.com the dataset links to."""
    options = lead.dataset.campaign_settings
    link = urlsplit((options.cal_booking_link if options else "") or DEFAULT_CAL_ORIGIN)
    origin = f"{link.scheme}://{link.netloc}" if link.scheme and link.netloc else DEFAULT_CAL_ORIGIN
    return f"{origin}/booking/{uid}"


def open_booking_events():
    """Deliveries waiting for a person: no lead matched, or a cancellation with no booking yet."""
    return BookingEvent.objects.filter(outcome__in=[Outcome.UNMATCHED, Outcome.WAITING]).order_by("-created_at")


# --- The demo's test booking ---------------------------------------------------------------------


def demo_booking_body(*, lead: Lead, at: datetime, start: datetime) -> bytes:
    """A BOOKING_CREATED as Cal.com sends it, for this lead, as if booked through its short link."""
    uid = "test-" + secrets.token_hex(8)
    body = {
        "triggerEvent": CREATED,
        "createdAt": at.isoformat().replace("+00:00", "Z"),
        "payload": {
            "type": "call",
            "title": f"Call with {lead.full_name}",
            "startTime": start.isoformat().replace("+00:00", "Z"),
            "endTime": (start + timedelta(minutes=15)).isoformat().replace("+00:00", "Z"),
            "uid": uid,
            "attendees": [{"name": lead.full_name, "email": lead.email or "", "timeZone": "Europe/London"}],
            "metadata": {"leadId": str(lead.pk)},
            "status": "ACCEPTED",
        },
    }
    return json.dumps(body).encode()


# --- Helpers -----------------------------------------------------------------------------------


def _start_time(payload: dict) -> datetime | None:
    value = payload.get("startTime")
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""
