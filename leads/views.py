from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from leads.models import Lead
from leads.selectors import dataset_for, datasets_visible_to, leads_visible_to

PAGE_SIZE = 50


@login_required
def dataset_list(request):
    datasets = datasets_visible_to(request.user).filter(archived=False).order_by("-created_at")
    return render(request, "leads/datasets.html", {"datasets": datasets, "nav": "datasets"})


@login_required
def dataset_detail(request, pk):
    dataset = dataset_for(request.user, pk)
    uploads = dataset.uploads.order_by("-created_at")[:20]
    return render(request, "leads/dataset_detail.html", {"dataset": dataset, "uploads": uploads, "nav": "datasets"})


def _filtered_leads(request):
    leads = leads_visible_to(request.user).select_related("dataset", "assigned_to")
    q = request.GET.get("q", "").strip()
    if q:
        leads = leads.filter(
            Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(phone_number__contains=q)
            | Q(postcode__icontains=q)
            | Q(email__icontains=q)
        )
    if status := request.GET.get("status"):
        leads = leads.filter(contact_status=status)
    if dataset := request.GET.get("dataset"):
        leads = leads.filter(dataset_id=dataset) if _is_uuid(dataset) else leads.none()
    return leads.order_by("-last_message_at", "first_name")


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@login_required
def lead_list(request):
    page = Paginator(_filtered_leads(request), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "nav": "leads",
        "statuses": Lead.ContactStatus.choices,
        "datasets": datasets_visible_to(request.user).order_by("name"),
        "query": request.GET.urlencode(),
    }
    template = "leads/leads.html#lead-table" if request.htmx else "leads/leads.html"
    return render(request, template, context)
