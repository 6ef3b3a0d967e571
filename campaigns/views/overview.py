"""The overview: the client's figures at a glance and the latest replies."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from clients.roles import sees_all_leads
from leads.selectors import datasets_visible_to, latest_replies, lead_totals, leads_visible_to


@login_required
def overview(request):
    if not sees_all_leads(request.user):
        return redirect(f"{reverse('leads')}?assigned=me")  # sales reps land on their own leads
    leads = leads_visible_to(request.user)
    datasets = datasets_visible_to(request.user).filter(archived=False).order_by("-created_at")
    return render(
        request,
        "dashboard/overview.html",
        {
            "totals": lead_totals(leads),
            "latest_replies": latest_replies(leads),
            "datasets": datasets,
            "nav": "overview",
        },
    )
