"""The lead page: thread, staff replies, timeline, and the actions on one lead; each action calls one service
(the thread is campaigns' data)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from campaigns import content
from campaigns.forms import LeadStatusForm, StaffReplyForm
from campaigns.inbox import conversation_mark_read
from campaigns.replies import ReplyRefused, reply_timing_note, staff_reply_refusal, staff_reply_send
from campaigns.selectors import lead_planned_reply, lead_thread
from campaigns.suppression import leads_remove_and_suppress
from campaigns.views.bookings import demo_bookings_enabled
from clients.access import current_client
from clients.models import User
from clients.roles import Action, can, require
from leads.bulk import leads_archive
from leads.models import Lead, LeadEvent, Suppression
from leads.selectors import lead_for, lead_timeline
from leads.services import lead_assign, lead_call_mark, lead_manual_mode_set, lead_status_change, lead_unarchive
from leads.table import quiet_badges

PANEL_MESSAGES = 20  # the inbox panel shows the end of a thread; the lead page shows all of it


@login_required
def lead_detail(request, pk):
    lead = lead_for(request.user, pk)
    conversation_mark_read(lead=lead, at=timezone.now())  # opened: read for the whole team
    return _lead_page(request, lead, StaffReplyForm())


def _lead_page(request, lead: Lead, reply_form: StaffReplyForm, status: int = 200):
    suppressed = Suppression.objects.filter(phone_number=lead.phone_number).first()
    context = {
        "lead": lead,
        "thread": lead_thread(lead).select_related("sent_by"),
        "timeline": [_with_details(event) for event in lead_timeline(lead, limit=100)],
        "nav": "leads",
        "status_form": LeadStatusForm(initial={"contact_status": lead.contact_status}),
        "assign_form": _assign_form(request.user, lead) if can(request.user, Action.ASSIGN_LEADS) else None,
        "quiet_badges": quiet_badges(lead, suppressed=suppressed is not None),
        "suppression": suppressed,
        "demo_bookings": demo_bookings_enabled(),
        **reply_context(lead, reply_form),
    }
    return render(request, "leads/lead_detail.html", context, status=status)


# What each kind of event carries that staff want to read, in words (ids and SIDs stay out of the way).
EVENT_DETAILS = {
    "step": "Step",
    "error_code": "Error",
    "reason": "Why",
    "text": "Text",
    "source": "Source",
    "start": "Call at",
    "fields": "Fields updated",
    "outcome": "Outcome",
    "row": "File row",
}


def _with_details(event: LeadEvent) -> LeadEvent:
    data = event.data or {}
    event.details = [
        (label, ", ".join(map(str, data[key])) if isinstance(data[key], list) else data[key])
        for key, label in EVENT_DETAILS.items()
        if data.get(key) not in (None, "", [])
    ]
    return event


class AssignForm(forms.Form):
    assigned_to = forms.ChoiceField(label="Assigned to", required=False)

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].choices = [("", "Nobody")] + [(str(u.pk), u.get_full_name()) for u in users]


def _assignable(lead: Lead) -> list[User]:
    """Active users of this client who may see the lead's dataset (a rep given a lead they cannot open
    would never find it)."""
    users = User.objects.filter(client=current_client(), status=User.Status.ACTIVE).order_by("first_name", "email")
    return [u for u in users if u.allowed_dataset_ids is None or lead.dataset_id in u.allowed_dataset_ids]


def _assign_form(user: User, lead: Lead, data=None) -> AssignForm:
    return AssignForm(data, users=_assignable(lead), initial={"assigned_to": str(lead.assigned_to_id or "")})


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


@login_required
@require_POST
def lead_assign_view(request, pk):
    require(request.user, Action.ASSIGN_LEADS)
    lead = lead_for(request.user, pk)
    form = _assign_form(request.user, lead, request.POST)
    if not form.is_valid():
        messages.error(request, "Choose someone from the list: that user cannot take this lead.")
        return redirect("lead_detail", pk=lead.pk)
    chosen = form.cleaned_data["assigned_to"]
    assignee = User.objects.get(pk=chosen) if chosen else None
    try:
        lead_assign(lead=lead, assignee=assignee, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Assigned to {assignee.get_full_name()}." if assignee else "Nobody is assigned now.")
    return redirect("lead_detail", pk=lead.pk)


@login_required
@require_POST
def lead_booked(request, pk):
    """A call booked or cleared by hand (a booking from Cal.com arrives by its webhook)."""
    require(request.user, Action.BOOK_CALL)
    lead = lead_for(request.user, pk)
    booked = request.POST.get("booked") == "1"
    lead_call_mark(lead=lead, booked=booked, actor=request.user, at=timezone.now())
    messages.success(request, "Call booked: the lead has left the cadence." if booked else "Call booking cleared.")
    return redirect("lead_detail", pk=lead.pk)


@login_required
@require_POST
def lead_remove_suppress(request, pk):
    require(request.user, Action.MANAGE_SUPPRESSIONS)
    lead = lead_for(request.user, pk)
    reason = request.POST.get("reason", "")[:500]
    leads_remove_and_suppress(
        leads=Lead.objects.filter(pk=lead.pk), actor=request.user, at=timezone.now(), reason=reason
    )
    messages.success(
        request, f"{lead.phone_number} is suppressed: the lead is removed and nothing more will be sent to it."
    )
    return redirect("lead_detail", pk=lead.pk)


@login_required
@require_POST
def lead_archive(request, pk):
    require(request.user, Action.EDIT_DATASETS)
    lead = lead_for(request.user, pk)
    archived = request.POST.get("archived") == "1"
    if archived:
        leads_archive(leads=Lead.objects.filter(pk=lead.pk), actor=request.user, at=timezone.now())
    else:
        lead_unarchive(lead=lead, actor=request.user)
    messages.success(request, "Archived: the lead receives nothing more." if archived else "Taken out of the archive.")
    return redirect("lead_detail", pk=lead.pk)
