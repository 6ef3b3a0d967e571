"""Twilio's webhooks on the client host: signature first, then the service, then an empty answer."""

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campaigns.outbox.callbacks import message_status_record
from campaigns.twilio_signature import twilio_signed


@csrf_exempt
@require_POST
@twilio_signed
def status_webhook(request: HttpRequest) -> HttpResponse:
    message_status_record(params=request.POST.dict(), message_id=request.GET.get("message"), now=timezone.now())
    return HttpResponse(status=200)
