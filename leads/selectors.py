"""Every read of datasets, leads and conversations for a user goes through here.

It applies the user's `allowed_dataset_ids` (null = all, empty = none) and, for sales reps
without `can_view_all_leads`, restricts leads to those assigned to them.
"""

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from clients.models import User
from clients.roles import sees_all_leads
from leads import events
from leads.models import Dataset, Lead, LeadEvent, Upload


def sees_every_dataset(user: User) -> bool:
    return user.allowed_dataset_ids is None or user.is_staff


def datasets_visible_to(user: User) -> QuerySet[Dataset]:
    datasets = Dataset.objects.all()
    if not sees_every_dataset(user):
        datasets = datasets.filter(pk__in=user.allowed_dataset_ids)
    return datasets


def leads_visible_to(user: User) -> QuerySet[Lead]:
    leads = Lead.objects.filter(dataset__in=datasets_visible_to(user))
    if not sees_all_leads(user):
        leads = leads.filter(assigned_to=user)
    return leads


def dataset_for(user: User, pk) -> Dataset:
    return get_object_or_404(datasets_visible_to(user), pk=pk)


def lead_for(user: User, pk) -> Lead:
    return get_object_or_404(leads_visible_to(user).select_related("dataset"), pk=pk)


def dataset_custom_columns(dataset: Dataset) -> list[str] | None:
    """The extra columns its leads were imported with (custom fields); None while it has no leads."""
    if not dataset.leads.exists():
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT jsonb_object_keys(custom_fields) FROM leads WHERE dataset_id = %s", [dataset.pk]
        )
        return sorted(key for (key,) in cursor.fetchall())


def leads_matching(leads: QuerySet[Lead], query: str) -> QuerySet[Lead]:
    """The search box's rule: name, phone, postcode or e-mail contains the query (all when it is empty)."""
    query = query.strip()
    if not query:
        return leads
    return leads.filter(
        Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(phone_number__contains=query)
        | Q(postcode__icontains=query)
        | Q(email__icontains=query)
    )


def lead_timeline(lead: Lead, limit: int | None = None) -> list[LeadEvent]:
    """The lead's events, newest first, with its import read from its upload (leads.events.lead_import_entry)."""
    stored = lead.events.select_related("actor").order_by("-created_at")
    timeline = list(stored[:limit] if limit else stored)
    if (imported := events.lead_import_entry(lead)) is not None:
        timeline.append(imported)
        timeline.sort(key=lambda event: event.created_at, reverse=True)  # stable: the import last among equals
    return timeline[:limit] if limit else timeline


def upload_for(user: User, pk) -> Upload:
    return get_object_or_404(
        Upload.objects.filter(dataset__in=datasets_visible_to(user)).select_related("dataset"), pk=pk
    )


def lead_totals(leads: QuerySet[Lead]) -> dict[str, int]:
    """The overview's figures over the leads a user sees."""
    return leads.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(archived=False)),
        replied=Count("id", filter=Q(reply_received_at__isnull=False)),
        hot=Count("id", filter=Q(contact_status="HOT")),
        booked=Count("id", filter=Q(call_booked=True)),
        converted=Count("id", filter=Q(contact_status="CONVERTED")),
    )


def latest_replies(leads: QuerySet[Lead], limit: int = 10) -> QuerySet[Lead]:
    return leads.filter(reply_received_at__isnull=False).order_by("-reply_received_at")[:limit]
