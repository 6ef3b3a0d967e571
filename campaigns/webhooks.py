"""Twilio's webhooks on the client host: signature first, then the service, then an empty answer."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.http.request import split_domain_port
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import SIGNATURE_SETTINGS_HEADER, RequestValidator, get_signature_algorithm

from campaigns.outbox.callbacks import message_status_record
from campaigns.transports import twilio_auth_token

logger = logging.getLogger(__name__)


def public_url(request: HttpRequest) -> str:
    """The URL Twilio called, as our public address says it (DESIGN.md §5), not as a proxy passed it on."""
    host, _ = split_domain_port(request.get_host())
    port = f":{settings.DBR_PUBLIC_PORT}" if settings.DBR_PUBLIC_PORT else ""
    return f"{settings.DBR_PUBLIC_SCHEME}://{host}{port}{request.get_full_path()}"


def twilio_signature_valid(request: HttpRequest) -> bool:
    token, signature = twilio_auth_token(), request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    return RequestValidator(token).validate(public_url(request), request.POST, signature, algorithm=algorithm)


@csrf_exempt
@require_POST
def status_webhook(request: HttpRequest) -> HttpResponse:
    if not twilio_signature_valid(request):
        logger.warning("Twilio status callback refused: missing or wrong signature (%s)", request.get_full_path())
        return HttpResponseForbidden()
    message_status_record(params=request.POST.dict(), message_id=request.GET.get("message"), now=timezone.now())
    return HttpResponse(status=200)
