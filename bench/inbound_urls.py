"""The client host's URLs plus a bare view, for bench/inbound only (never the product's URLconf)."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campaigns.webhooks import EMPTY_TWIML
from dbr.urls_tenants import urlpatterns as product_urlpatterns


@csrf_exempt
@require_POST
def bare(request):
    """What any view costs on this server: the same middleware and the same answer, no work."""
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


urlpatterns = [path("bench/bare/", bare), *product_urlpatterns]
