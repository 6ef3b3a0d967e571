"""Twilio's webhooks on the client host: signature first, then the service, then an empty answer."""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campaigns.inbound import MissingParameter, inbound_receive
from campaigns.outbox.callbacks import message_status_record
from campaigns.tasks import process_inbound
from campaigns.twilio_signature import twilio_signed
from clients.queue import enqueue


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
