"""Outbound events in the dashboard: the Settings section (URL, signing secret, test event, recent deliveries)
and the lead page's "Push to n8n"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.roles import Action, can, require
from leads.happenings import Happening, lead_happened
from leads.outbound import outbound_secret_rotate, outbound_test_send, outbound_url_set, recent_deliveries
from leads.selectors import lead_for

SHOWN_SECRET = "outbound_secret_shown"  # session key: the new secret, popped by the next settings page


def outbound_section(request) -> dict:
    """The Settings page's context for the section (owners and admins only); a new secret is shown once."""
    if not can(request.user, Action.EDIT_CLIENT_SETTINGS):
        return {}
    client = request.tenant
    return {
        "outbound": {
            "url": client.n8n_webhook_url or "",
            "secret_hint": "…" + client.n8n_webhook_secret[-4:],
            "new_secret": request.session.pop(SHOWN_SECRET, None),
            "deliveries": recent_deliveries(),
        }
    }


@login_required
@require_POST
def outbound_url(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    try:
        client = outbound_url_set(client=request.tenant, url=request.POST.get("url", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if client.n8n_webhook_url:
            messages.success(request, f"Outbound events go to {client.n8n_webhook_url}.")
        else:
            messages.success(request, "No webhook URL: outbound events are not recorded or sent.")
    return redirect("settings")


@login_required
@require_POST
def outbound_secret(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    request.session[SHOWN_SECRET] = outbound_secret_rotate(client=request.tenant)
    messages.success(request, "A new signing secret is made; the old one no longer signs. Copy it now.")
    return redirect("settings")


@login_required
@require_POST
def outbound_test(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    if outbound_test_send(at=timezone.now()) is None:
        messages.error(request, "Set a webhook URL first.")
    else:
        messages.success(request, "Test event queued; its delivery shows below in a few seconds.")
    return redirect("settings")


@login_required
@require_POST
def lead_push(request, pk):
    """Sends the lead to the client's webhook by hand (`lead.pushed`)."""
    require(request.user, Action.PUSH_TO_N8N)
    lead = lead_for(request.user, pk)
    delivery = lead_happened(lead=lead, kind=Happening.PUSHED, at=timezone.now(), data={"by": request.user.email})
    if delivery is None:
        messages.error(request, "No webhook URL is set (Settings › Outbound events).")
    else:
        messages.success(request, "Pushed: the lead is on its way to n8n.")
    return redirect("lead_detail", pk=lead.pk)
