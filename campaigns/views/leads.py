"""The lead page: thread, timeline, status and manual mode (the thread is campaigns' data)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from campaigns.forms import LeadStatusForm
from campaigns.selectors import lead_thread
from clients.roles import Action, require
from leads.selectors import lead_for, lead_timeline
from leads.services import lead_manual_mode_set, lead_status_change


@login_required
def lead_detail(request, pk):
    lead = lead_for(request.user, pk)
    thread = lead_thread(lead)
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            "thread": thread,
            "timeline": lead_timeline(lead)[:100],
            "nav": "leads",
            "status_form": LeadStatusForm(initial={"contact_status": lead.contact_status}),
        },
    )


@login_required
@require_POST
def lead_status(request, pk):
    require(request.user, Action.CHANGE_LEAD_STATUS)
    lead = lead_for(request.user, pk)
    form = LeadStatusForm(request.POST)
    if form.is_valid():
        lead_status_change(lead=lead, status=form.cleaned_data["contact_status"], actor=request.user)
        messages.success(request, f"Status set to {lead.get_contact_status_display()}.")
    else:
        messages.error(request, "Choose one of the listed statuses.")
    return redirect("lead_detail", pk=lead.pk)


@login_required
@require_POST
def lead_manual_mode(request, pk):
    require(request.user, Action.SET_MANUAL_MODE)
    lead = lead_for(request.user, pk)
    enabled = request.POST.get("enabled") == "1"
    lead_manual_mode_set(lead=lead, enabled=enabled, actor=request.user, now=timezone.now())
    messages.success(
        request,
        "Manual mode on: Sophie and the cadence will not text this lead."
        if enabled
        else "Manual mode off: Sophie may reply again.",
    )
    return redirect("lead_detail", pk=lead.pk)
