"""Reads of campaign data for a user or a page: conversations, threads and the campaign page's figures."""

from datetime import datetime

from django.db.models import Count, Min, QuerySet, TextChoices

from campaigns.models import Conversation, Message
from clients.models import User
from leads.models import Dataset, Lead
from leads.selectors import leads_visible_to


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(lead__in=leads_visible_to(user))


def messages_visible_to(user: User) -> QuerySet[Message]:
    return Message.objects.filter(lead__in=leads_visible_to(user))


def lead_thread(lead: Lead) -> QuerySet[Message]:
    return Message.objects.filter(lead=lead).order_by("created_at")


def campaign_figures(dataset: Dataset) -> dict[str, list[tuple[str, str, int]] | datetime | None]:
    """The campaign page's counts: leads by status, messages by status, and when the next text is planned."""
    leads = dataset.leads.values_list("contact_status").annotate(n=Count("pk")).order_by()
    messages = Message.objects.filter(lead__dataset=dataset).values_list("status").annotate(n=Count("pk")).order_by()
    next_send = Message.objects.filter(lead__dataset=dataset, status="pending").aggregate(at=Min("next_attempt_at"))
    return {
        "lead_counts": _labelled(leads, Lead.ContactStatus),
        "message_counts": _labelled(messages, Message.Status),
        "next_send_at": next_send["at"],
    }


def _labelled(counts, choices: type[TextChoices]) -> list[tuple[str, str, int]]:
    """(value, label, count) in the order of the choices, non-zero only."""
    found = dict(counts)
    return [(value, label, found[value]) for value, label in choices.choices if found.get(value)]
