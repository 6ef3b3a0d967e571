"""The overview: the client's figures at a glance and the latest replies."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from leads.selectors import datasets_visible_to, latest_replies, lead_totals, leads_visible_to


@login_required
def overview(request):
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
