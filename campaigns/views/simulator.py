"""The lead simulator (simulator backend only): every texted lead as a phone that can answer back.

A phone shows what its lead received and sent, read from Message rows (the worker that sends
is another process). A typed reply goes to the real inbound webhook, signed as Twilio signs, so
it takes the road a real text takes: signature, store, STOP, processing, Sophie.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from campaigns.models import InboundSms, Message
from campaigns.transports.simulator import ReplyNotDelivered, simulated_reply_send, simulator_enabled
from clients.access import client_url
from clients.models import User
from clients.roles import Action, require
from leads.models import Lead
from leads.selectors import leads_visible_to

OUT, IN = Message.Direction.OUTBOUND, Message.Direction.INBOUND
# Texts that left for the provider: the phone got them (or the network said it could not).
REACHED_PHONE = [Message.Status.SENT, Message.Status.DELIVERED, Message.Status.UNDELIVERED, Message.Status.UNKNOWN]
PHONES_PER_PAGE = 50
REPLY_SENT_EVENT = "simulator-reply-sent"


def simulator_only(view):
    """404 unless the simulator backend is on: with real Twilio, real leads reply."""

    @functools.wraps(view)
    def checked(request, *args, **kwargs):
        if not simulator_enabled():
            raise Http404("The lead simulator is only there with DBR_SMS_BACKEND=simulator.")
        return view(request, *args, **kwargs)

    return checked


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Reply as the lead",
        max_length=1600,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Type a reply, e.g. Yes please, or STOP"}),
        error_messages={
            "required": "Type a reply first.",
            "max_length": "A text can be at most 1,600 characters (Twilio's limit); this one has %(show_value)d.",
        },
    )


@dataclass
class Bubble:
    """One text on the phone's screen: `mine` when the lead sent it."""

    mine: bool
    text: str
    at: datetime
    note: str


@simulator_only
@login_required
def simulator_phones(request):
    page = Paginator(_texted_leads(request.user), PHONES_PER_PAGE).get_page(request.GET.get("page"))
    template = "simulator/phones.html#phone-list" if request.htmx else "simulator/phones.html"
    return render(request, template, {"page": page, "nav": "simulator"})


@simulator_only
@login_required
def simulator_phone(request, pk):
    lead = _texted_lead(request.user, pk)
    template = "simulator/phone.html#phone-screen" if request.htmx else "simulator/phone.html"
    return render(request, template, _phone_context(lead, ReplyForm()))


@simulator_only
@login_required
@require_POST
def simulator_reply(request, pk):
    require(request.user, Action.REPLY)
    lead = _texted_lead(request.user, pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        _send(request, lead, form)
    if request.htmx:
        sent = not form.errors
        response = render(
            request, "simulator/phone.html#phone-reply", _phone_context(lead, ReplyForm() if sent else form)
        )
        return trigger_client_event(response, REPLY_SENT_EVENT) if sent else response
    if not form.errors:
        return redirect("simulator_phone", pk=lead.pk)
    return render(request, "simulator/phone.html", _phone_context(lead, form), status=400)


def _send(request, lead: Lead, form: ReplyForm) -> None:
    """Posts the reply to the webhook; what went wrong becomes the form's error."""
    to = _texted_from(lead)
    if to is None:
        form.add_error(None, "This lead's texts name none of our numbers, so a reply has nowhere to go.")
        return
    try:
        simulated_reply_send(
            webhook_url=client_url(request.tenant, reverse("twilio_sms")),
            from_=lead.phone_number,
            to=to,
            body=form.cleaned_data["body"],
        )
    except ReplyNotDelivered as exc:
        form.add_error(None, str(exc))


# --- Reads: the leads we texted, and one phone's screen --------------------------------------


def _texted_leads(user: User) -> QuerySet[Lead]:
    """Leads the user may see that were sent a text, the most recently texted first."""
    return (
        leads_visible_to(user)
        .filter(messages__direction=OUT, messages__status__in=REACHED_PHONE)
        .annotate(last_texted_at=Max(Coalesce("messages__sent_at", "messages__created_at")))
        .select_related("dataset")
        .order_by("-last_texted_at", "pk")
    )


def _texted_lead(user: User, pk) -> Lead:
    return get_object_or_404(_texted_leads(user), pk=pk)


def _texted_from(lead: Lead) -> str | None:
    """Our number the lead was last texted from: a reply goes back to it, as on a real phone."""
    texts = Message.objects.filter(lead=lead, direction=OUT, status__in=REACHED_PHONE, from_number__gt="")
    return texts.order_by(Coalesce("sent_at", "created_at").desc()).values_list("from_number", flat=True).first()


def _phone_context(lead: Lead, form: ReplyForm) -> dict:
    return {"lead": lead, "screen": _screen(lead), "form": form, "nav": "simulator", "sent_event": REPLY_SENT_EVENT}


def _screen(lead: Lead) -> list[Bubble]:
    """What the phone shows, oldest first: the lead's Messages, and texts it sent that are not Messages (yet)."""
    messages = Message.objects.filter(lead=lead).filter(Q(direction=IN) | Q(status__in=REACHED_PHONE))
    bubbles = [_message_bubble(m) for m in messages]
    unrecorded = InboundSms.objects.filter(from_number=lead.phone_number, message=None)
    bubbles += [Bubble(True, row.body, row.received_at, _inbound_note(row)) for row in unrecorded]
    return sorted(bubbles, key=lambda bubble: bubble.at)


def _message_bubble(message: Message) -> Bubble:
    at = message.sent_at or message.created_at
    if message.direction == IN:
        return Bubble(True, message.content, at, "Sent")
    if message.status == Message.Status.UNDELIVERED:
        return Bubble(False, message.content, at, f"Not delivered ({message.error_code or 'no code'})")
    return Bubble(False, message.content, at, message.get_status_display())


def _inbound_note(row: InboundSms) -> str:
    if row.processed_at is None:
        return "Sent · waiting to be processed"
    return f"Sent · {row.get_outcome_display()}"
