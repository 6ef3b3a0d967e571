"""Staff actions on Sophie's planned replies and hand-offs (lead page and inbox panel)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from campaigns.models import Message
from clients.roles import Action, require
from clients.services import client_sophie_set
from leads.selectors import lead_for
from sophie import review
from sophie.planning import replies_cancel_all


def _planned(request, pk, message_pk) -> tuple:
    lead = lead_for(request.user, pk)  # 404 unless the user may see the lead
    message = get_object_or_404(Message, pk=message_pk, lead=lead, ai_generated=True)
    return lead, message


def _back(request, lead):
    # From the inbox panel the lead's conversation is reopened there; elsewhere the lead page.
    if request.POST.get("next") == "inbox":
        return redirect(f"/inbox/?lead={lead.pk}")
    return redirect("lead_detail", pk=lead.pk)


def _act(request, lead, done: str, service, **kwargs):
    try:
        service(actor=request.user, at=timezone.now(), **kwargs)
    except review.ReviewRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, done)
    return _back(request, lead)


@login_required
@require_POST
def planned_reply_cancel(request, pk, message_pk):
    require(request.user, Action.REPLY)
    lead, message = _planned(request, pk, message_pk)
    done = "Sophie's reply is cancelled; she answers the lead's next text."
    return _act(request, lead, done, review.planned_reply_cancel, message=message)


@login_required
@require_POST
def planned_reply_send_now(request, pk, message_pk):
    require(request.user, Action.REPLY)
    lead, message = _planned(request, pk, message_pk)
    return _act(request, lead, "Sophie has written the reply now.", review.planned_reply_send_now, message=message)


@login_required
@require_POST
def draft_send(request, pk, message_pk):
    require(request.user, Action.REPLY)
    lead, message = _planned(request, pk, message_pk)
    return _act(request, lead, "Draft sent.", review.draft_send, message=message, text=request.POST.get("text", ""))


@login_required
@require_POST
def draft_discard(request, pk, message_pk):
    require(request.user, Action.REPLY)
    lead, message = _planned(request, pk, message_pk)
    return _act(request, lead, "Draft discarded.", review.draft_discard, message=message)


@login_required
@require_POST
def handoff_clear(request, pk):
    require(request.user, Action.REPLY)
    lead = lead_for(request.user, pk)
    review.handoff_clear(lead=lead, actor=request.user, at=timezone.now())
    messages.success(request, "Hand-off cleared: Sophie answers this lead's next text again.")
    return _back(request, lead)


@login_required
@require_POST
def sophie_switch(request):
    """Settings: Sophie on or off for the whole company; off cancels every planned reply."""
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    enabled = request.POST.get("enabled") == "1"
    client_sophie_set(client=request.tenant, enabled=enabled)
    if enabled:
        messages.success(request, "Sophie is on: she answers replies as each dataset's settings say.")
    else:
        cancelled = replies_cancel_all(reason="Not sent: Sophie was switched off.", at=timezone.now())
        messages.success(
            request, f"Sophie is off: no AI replies for any dataset. {cancelled} planned replies cancelled."
        )
    return redirect("settings")
