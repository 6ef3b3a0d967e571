"""Bookings on the client host: a lead's short booking link, and the demo's test booking (docs/bookings.md)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from campaigns.cal import DemoBookingNotDelivered, demo_booking_send
from campaigns.transports.simulator import simulator_enabled
from clients.roles import Action, require
from leads.bookings import booking_page_url, lead_for_booking_token
from leads.selectors import lead_for


@require_GET
def booking_link(request, token):
    """/b/<token>: 302 to the dataset's Cal.com page, the lead prefilled; a friendly 404 otherwise."""
    lead = lead_for_booking_token(token)
    options = lead.dataset.campaign_settings if lead else None
    if options is None or not (options.cal_booking_link or "").strip():
        return render(request, "leads/booking_link_missing.html", status=404)
    return HttpResponseRedirect(booking_page_url(lead=lead, cal_link=options.cal_booking_link))


def demo_bookings_enabled() -> bool:
    """The test-booking button exists only in the demo: the simulator backend or DEBUG."""
    return simulator_enabled() or settings.DEBUG


@login_required
@require_POST
def lead_test_booking(request, pk):
    if not demo_bookings_enabled():
        raise Http404("Test bookings exist only in the demo.")
    require(request.user, Action.BOOK_CALL)
    lead = lead_for(request.user, pk)
    try:
        answer = demo_booking_send(client=request.tenant, lead=lead, at=timezone.now())
    except DemoBookingNotDelivered as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Test booking sent through /webhooks/cal/: {answer}")
    return redirect("lead_detail", pk=lead.pk)
