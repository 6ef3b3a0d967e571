"""Twilio's and Cal.com's webhooks on the client host: signature first, then the service, then a short answer."""

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campaigns.cal import HEADER as CAL_HEADER
from campaigns.cal import cal_signature_valid
from campaigns.inbound import MissingParameter, inbound_receive
from campaigns.outbox.callbacks import message_status_record
from campaigns.tasks import process_inbound
from campaigns.twilio_signature import twilio_signed
from clients.queue import enqueue
from leads.bookings import MalformedDelivery, booking_delivery_parse, booking_receive

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
@twilio_signed
def status_webhook(request: HttpRequest) -> HttpResponse:
    message_status_record(params=request.POST.dict(), message_id=request.GET.get("message"), now=timezone.now())
    return HttpResponse(status=200)


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt
@require_POST
@twilio_signed
def sms_webhook(request: HttpRequest) -> HttpResponse:
    """Stores the text and answers at once; an exact STOP is applied before the answer goes back."""
    try:
        inbound, created = inbound_receive(params=request.POST.dict(), at=timezone.now())  # committed
    except MissingParameter as exc:
        return HttpResponseBadRequest(str(exc))
    if created:
        # A broker outage only delays processing: the sweep finds the row after a minute.
        enqueue(process_inbound, str(inbound.pk))
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def cal_webhook(request: HttpRequest) -> HttpResponse:
    """Cal.com's booking webhook: the client's own signature, then the delivery kept once and applied."""
    body = request.body
    if not cal_signature_valid(client=request.tenant, body=body, signature=request.headers.get(CAL_HEADER)):
        logger.warning("Cal.com webhook refused: missing or wrong signature")
        return HttpResponseForbidden()
    try:
        delivery = booking_delivery_parse(body)
    except MalformedDelivery as exc:
        return HttpResponseBadRequest(str(exc))
    if delivery is None:
        return HttpResponse("No booking in this delivery.", content_type="text/plain")  # Cal.com's PING
    event, created = booking_receive(delivery=delivery, at=timezone.now())
    answer = event.get_outcome_display() if created else "Already received."
    return HttpResponse(answer, content_type="text/plain")


# Its HMAC covers the raw body, which it reads itself (a form parse first would consume it): the bad-input
# middleware lets it through, and an unsigned or malformed delivery gets 403 or 400 here.
cal_webhook.keeps_raw_input = True
