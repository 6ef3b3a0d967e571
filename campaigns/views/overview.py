"""The overview: the client's figures for a period, per dataset or overall, from counters only."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from campaigns.overview import (
    PERIODS,
    SERIES_LABELS,
    column_chart,
    funnel_chart,
    overview_figures,
    overview_query_parse,
)
from clients.roles import sees_all_leads
from leads.selectors import datasets_visible_to, latest_replies, leads_visible_to


@login_required
def overview(request):
    if not sees_all_leads(request.user):
        return redirect(f"{reverse('leads')}?assigned=me")  # sales reps land on their own leads
    query = overview_query_parse(request.GET)
    figures = overview_figures(request.user, query, tz=request.tenant.timezone)
    datasets = datasets_visible_to(request.user).filter(archived=False).order_by("-created_at")
    leads = leads_visible_to(request.user)
    if query.dataset:
        leads = leads.filter(dataset_id=query.dataset)
    series = [
        {
            "key": key,
            "label": label,
            "total": sum(day[key] for day in figures.days),
            "chart": column_chart([(f"{day['day']:%-d %b}", day[key]) for day in figures.days], series=key),
        }
        for key, label in SERIES_LABELS.items()
    ]
    return render(
        request,
        "dashboard/overview.html",
        {
            "overview": figures,
            "query": query,
            "periods": [(key, label) for key, (label, _) in PERIODS.items()],
            "funnel": funnel_chart(figures.funnel),
            "series": series,
            "latest_replies": latest_replies(leads),
            "datasets": datasets,
            "nav": "overview",
        },
    )
