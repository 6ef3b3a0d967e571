"""The lead page: thread, staff replies, timeline, status and manual mode (the thread is campaigns' data)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from campaigns import content
from campaigns.forms import LeadStatusForm, StaffReplyForm
from campaigns.inbox import conversation_mark_read
from campaigns.replies import ReplyRefused, reply_timing_note, staff_reply_refusal, staff_reply_send
from campaigns.selectors import lead_planned_reply, lead_thread
from campaigns.views.bookings import demo_bookings_enabled
from clients.roles import Action, require
from leads.models import Lead
from leads.selectors import lead_for, lead_timeline
from leads.services import lead_manual_mode_set, lead_status_change

PANEL_MESSAGES = 20  # the inbox panel shows the end of a thread; the lead page shows all of it


@login_required
def lead_detail(request, pk):
    lead = lead_for(request.user, pk)
    conversation_mark_read(lead=lead, at=timezone.now())  # opened: read for the whole team
    return _lead_page(request, lead, StaffReplyForm())


def _lead_page(request, lead: Lead, reply_form: StaffReplyForm, status: int = 200):
    context = {
        "lead": lead,
        "thread": lead_thread(lead),
        "timeline": lead_timeline(lead, limit=100),
        "nav": "leads",
        "status_form": LeadStatusForm(initial={"contact_status": lead.contact_status}),
        "demo_bookings": demo_bookings_enabled(),
        **reply_context(lead, reply_form),
    }
    return render(request, "leads/lead_detail.html", context, status=status)


def reply_context(lead: Lead, form: StaffReplyForm) -> dict:
    """What the reply box shows: the form, why the lead can't be texted, when a reply would go, its size."""
    return {
        "planned": lead_planned_reply(lead),
        "conversation": getattr(lead, "conversation", None),
        "reply_form": form,
        "reply_refusal": staff_reply_refusal(lead=lead),
        "reply_note": reply_timing_note(lead=lead, at=timezone.now()),
        **_counter(form),
    }


def _counter(form: StaffReplyForm) -> dict:
    """The text's size as it will be sent (look-alikes normalised to GSM-7 first)."""
    return {"counter": content.segments(content.to_gsm7(form["text"].value() or ""))}


@login_required
@require_POST
def lead_reply(request, pk):
    """A staff reply; from the inbox (HTMX) the conversation panel is answered, else the lead page."""
    require(request.user, Action.REPLY)
    lead = lead_for(request.user, pk)
    form = StaffReplyForm(request.POST)
    sent = None
    if form.is_valid():
        try:
            sent = staff_reply_send(
                lead=lead,
                text=form.cleaned_data["text"],
                user=request.user,
                at=timezone.now(),
                manual_mode=form.cleaned_data["manual_mode"],
            )
        except ReplyRefused as refused:
            form.add_error("text", str(refused))
    if request.htmx:
        return conversation_panel(request, lead, form=StaffReplyForm() if sent else form, sent=sent)
    if sent is None:
        return _lead_page(request, lead, form, status=400)
    messages.success(request, sent.summary)
    return redirect("lead_detail", pk=lead.pk)


def conversation_panel(request, lead: Lead, *, form: StaffReplyForm, sent=None):
    """The inbox's side panel: the latest texts of one conversation and the reply box."""
    return render(request, "campaigns/inbox.html#inbox-conversation", conversation_panel_context(lead, form, sent))


def conversation_panel_context(lead: Lead, form: StaffReplyForm, sent=None) -> dict:
    recent = list(lead_thread(lead).order_by("-created_at")[:PANEL_MESSAGES])[::-1]
    return {"lead": lead, "recent": recent, "sent": sent, **reply_context(lead, form)}


@login_required
@require_POST
def lead_reply_count(request, pk):
    """The reply's size as typed: characters, encoding, segments (the whole page without HTMX)."""
    lead = lead_for(request.user, pk)
    form = StaffReplyForm(request.POST)
    if request.htmx:
        return render(request, "leads/lead_detail.html#reply-counter", _counter(form))
    return _lead_page(request, lead, form)


@login_required
@require_POST
def lead_status(request, pk):
    require(request.user, Action.CHANGE_LEAD_STATUS)
    lead = lead_for(request.user, pk)
    form = LeadStatusForm(request.POST)
    if form.is_valid():
        lead_status_change(
            lead=lead,
            status=form.cleaned_data["contact_status"],
            actor=request.user,
            at=timezone.now(),
            install_date=form.cleaned_data["install_date"],
        )
        messages.success(request, f"Status set to {lead.get_contact_status_display()}.")
    else:
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
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
