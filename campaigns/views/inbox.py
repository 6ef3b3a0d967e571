"""The inbox: conversations and texts that need a person, live; texts from unknown numbers given a lead."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from campaigns.forms import InboundLeadForm, StaffReplyForm
from campaigns.inbound import NotAttachable, inbound_attach, inbound_lead_create
from campaigns.inbox import conversation_mark_read
from campaigns.selectors import (
    INBOX_KINDS,
    inbox_entries,
    open_bookings_visible_to,
    unread_count,
    unrouted_text_for,
)
from campaigns.views.leads import conversation_panel, conversation_panel_context
from clients.roles import Action, require
from leads.models import Lead
from leads.selectors import datasets_visible_to, lead_for, leads_matching, leads_visible_to

SEARCH_RESULTS = 20


@login_required
def inbox(request):
    """The list (polled every 10 s), and the conversation panel when `?lead=` names one."""
    kind = request.GET.get("kind", "")
    kind = kind if kind in INBOX_KINDS else ""
    mine = request.GET.get("mine") == "1"
    opened = _opened_lead(request)
    if request.htmx and request.htmx.target == "inbox-conversation" and opened:
        # The list refreshes at once: the conversation it shows as unread has just been read.
        return trigger_client_event(conversation_panel(request, opened, form=StaffReplyForm()), "inbox-read")
    context = {
        "nav": "inbox",
        "kinds": INBOX_KINDS,
        "kind": kind,
        "mine": mine,
        "entries": inbox_entries(request.user, kind=kind, mine=mine),
        "unread_total": unread_count(request.user),
    }
    if request.htmx and request.htmx.target == "inbox-list":
        return render(request, "campaigns/inbox.html#inbox-list", context)
    if opened:
        context.update(conversation_panel_context(opened, StaffReplyForm()))
    context["open_bookings"] = open_bookings_visible_to(request.user)
    return render(request, "campaigns/inbox.html", context)


def _opened_lead(request) -> Lead | None:
    """The lead of `?lead=`, read by the team from now on; None when none is named."""
    if not request.GET.get("lead"):
        return None
    lead = lead_for(request.user, _uuid(request.GET["lead"]))
    conversation_mark_read(lead=lead, at=timezone.now())
    return lead


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404("No such lead.")


@login_required
def inbox_text(request, pk):
    """A text no lead matched: find the lead it belongs to, or make a new one."""
    text = unrouted_text_for(request.user, pk)
    return _text_page(request, text, InboundLeadForm(datasets=datasets_visible_to(request.user)))


def _text_page(request, text, lead_form: InboundLeadForm, status: int = 200):
    query = request.GET.get("q", "").strip()
    return render(
        request,
        "campaigns/inbox_text.html",
        {"nav": "inbox", "text": text, "query": query, "found": _search(request.user, query), "lead_form": lead_form},
        status=status,
    )


def _search(user, query: str) -> list[Lead]:
    if not query:
        return []
    found = leads_matching(leads_visible_to(user), query).select_related("dataset")
    return list(found.order_by("first_name", "last_name")[:SEARCH_RESULTS])


@login_required
@require_POST
def inbox_text_attach(request, pk):
    require(request.user, Action.ATTACH_TEXTS)
    text = unrouted_text_for(request.user, pk)
    lead = lead_for(request.user, _uuid(request.POST.get("lead", "")))
    try:
        inbound_attach(inbound=text, lead=lead, at=timezone.now())
    except NotAttachable as refused:
        messages.error(request, str(refused))
        return redirect("inbox")
    messages.success(request, f"The text is now in {lead.full_name}'s conversation.")
    return redirect("lead_detail", pk=lead.pk)


@login_required
@require_POST
def inbox_text_lead_create(request, pk):
    require(request.user, Action.ATTACH_TEXTS)
    text = unrouted_text_for(request.user, pk)
    form = InboundLeadForm(request.POST, datasets=datasets_visible_to(request.user))
    if not form.is_valid():
        return _text_page(request, text, form, status=400)
    try:
        row = inbound_lead_create(inbound=text, actor=request.user, at=timezone.now(), **form.cleaned_data)
    except NotAttachable as refused:
        form.add_error(None, str(refused))
        return _text_page(request, text, form, status=400)
    messages.success(request, "Lead created, with the text in its conversation.")
    return redirect("lead_detail", pk=row.lead_id)
