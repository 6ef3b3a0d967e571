"""Campaign pages: one campaign per dataset — list, settings with live preview, lifecycle, test send."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Case, Value, When
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from campaigns.forms import (
    CampaignSettingsForm,
    PauseForm,
    TemplateChoiceForm,
    TestSendForm,
    time_zone_choices,
)
from campaigns.numbers import sending_number
from campaigns.preview import STEPS, message_previews, sample_lead
from campaigns.selectors import campaign_figures, campaign_timing
from campaigns.services import ACTIONS, CampaignRefused, start_problems
from campaigns.settings_services import (
    campaign_settings_apply_template,
    campaign_settings_save,
    campaign_settings_save_as_template,
    settings_for_editing,
)
from campaigns.test_send import campaign_test_send
from campaigns.transports.base import TransportError
from clients.roles import Action, can, require
from leads.bookings import booking_link_example
from leads.models import CampaignSettings, Dataset
from leads.selectors import dataset_custom_columns, dataset_for, datasets_visible_to, leads_visible_to

LIFECYCLE_DONE = {
    "start": "Campaign started: M1 goes out inside the sending window.",
    "pause": "Campaign paused: nothing more is sent until it is resumed.",
    "resume": "Campaign resumed.",
    "complete": "Campaign completed: no more cadence texts from this dataset.",
}
_STATUS_ORDER = Case(
    *(When(campaign_status=status, then=Value(rank)) for rank, status in enumerate(["active", "paused", "draft"])),
    default=Value(3),
)


@login_required
def campaign_list(request):
    datasets = datasets_visible_to(request.user).filter(archived=False).order_by(_STATUS_ORDER, "name")
    return render(request, "campaigns/list.html", {"datasets": datasets, "nav": "campaigns"})


@login_required
def campaign_detail(request, pk):
    """The campaign page; a POST saves the settings form."""
    dataset = dataset_for(request.user, pk)
    if request.method != "POST":
        return _campaign_page(request, dataset)
    require(request.user, Action.EDIT_CAMPAIGN_SETTINGS)
    form = CampaignSettingsForm(
        request.POST,
        instance=settings_for_editing(dataset),
        preview_url=reverse("campaign_preview", args=[dataset.pk]),
        custom_columns=dataset_custom_columns(dataset),
    )
    if not form.is_valid():
        return _campaign_page(request, dataset, form=form)
    try:
        with transaction.atomic():
            options = campaign_settings_save(dataset=dataset, options=form.save(commit=False), client=request.tenant)
            if template_name := form.cleaned_data["save_as_template"]:
                campaign_settings_save_as_template(options=options, name=template_name)
    except CampaignRefused as refused:
        for problem in refused.problems:
            form.add_error(None, f"The campaign is running, so this can't be saved: {problem}")
        return _campaign_page(request, dataset, form=form)
    messages.success(request, "Settings saved." + (f" Template “{template_name}” created." if template_name else ""))
    return redirect("campaign_detail", pk=dataset.pk)


@login_required
@require_POST
def campaign_preview(request, pk):
    """M1–M3 as typed so far; the partial for HTMX, the whole page (form unsaved) otherwise."""
    dataset = dataset_for(request.user, pk)
    options = settings_for_editing(dataset)
    context = _preview_context(request, dataset, options, request.POST if "m1_message" in request.POST else None)
    if request.htmx:
        return render(request, "campaigns/detail.html#message-preview", context)
    editable = can(request.user, Action.EDIT_CAMPAIGN_SETTINGS)
    url = reverse("campaign_preview", args=[dataset.pk])
    columns = dataset_custom_columns(dataset)
    form = (
        CampaignSettingsForm(request.POST, instance=options, preview_url=url, custom_columns=columns)
        if editable
        else None
    )
    return _campaign_page(request, dataset, form=form)


@login_required
@require_POST
def campaign_lifecycle(request, pk, action: str):
    require(request.user, Action.RUN_CAMPAIGNS)
    dataset = dataset_for(request.user, pk)
    arguments = {"dataset": dataset, "at": timezone.now(), "actor": request.user}
    if action == "pause":
        form = PauseForm(request.POST)
        reason = form.cleaned_data["reason"].strip() if form.is_valid() else ""
        arguments["reason"] = f"Paused by {request.user.get_full_name()}" + (f": {reason}" if reason else "")
    try:
        ACTIONS[action](**arguments)
    except CampaignRefused as refused:
        return _campaign_page(request, dataset, refused=(action, refused.problems))
    messages.success(request, LIFECYCLE_DONE[action])
    return redirect("campaign_detail", pk=dataset.pk)


@login_required
@require_POST
def campaign_template_apply(request, pk):
    require(request.user, Action.EDIT_CAMPAIGN_SETTINGS)
    dataset = dataset_for(request.user, pk)
    form = TemplateChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the listed templates.")
        return redirect("campaign_detail", pk=dataset.pk)
    template = form.cleaned_data["template"]
    try:
        campaign_settings_apply_template(dataset=dataset, template=template, client=request.tenant)
    except CampaignRefused as refused:
        return _campaign_page(request, dataset, refused=("use that template while it runs", refused.problems))
    messages.success(request, f"Copied the values of “{template}” into this dataset's settings.")
    return redirect("campaign_detail", pk=dataset.pk)


@login_required
@require_POST
def campaign_test_send_view(request, pk):
    """M1 for the sample lead to the user's own phone; nothing is recorded (it's a test)."""
    require(request.user, Action.EDIT_CAMPAIGN_SETTINGS)
    dataset = dataset_for(request.user, pk)
    form = TestSendForm(request.POST, user_phone=request.user.phone)
    if not form.is_valid():
        return _campaign_page(request, dataset, test_form=form)
    lead = sample_lead(leads_visible_to(request.user).filter(dataset=dataset))
    to = form.cleaned_data["phone"]
    try:
        result = campaign_test_send(options=settings_for_editing(dataset), client=request.tenant, lead=lead, to=to)
    except CampaignRefused as refused:
        return _campaign_page(request, dataset, refused=("send a test", refused.problems))
    except TransportError as exc:
        code = f" (error {exc.code})" if exc.code else ""
        messages.error(request, f"The test was not sent: {exc.message}{code}.")
    except ImproperlyConfigured as exc:
        messages.error(request, f"The test was not sent: SMS sending is not configured ({exc}).")
    else:
        messages.success(request, f"Test sent to {to}: M1 as {lead.full_name} would get it. Message SID {result.sid}.")
    return redirect(reverse("campaign_detail", args=[dataset.pk]) + "#test-send")


def _preview_context(request, dataset, options, data=None) -> dict:
    """Previews from posted values (`data`, as typed) or from the saved settings."""
    lead = sample_lead(leads_visible_to(request.user).filter(dataset=dataset))
    if data is not None:
        values = {
            "messages": {step: data.get(f"{step.lower()}_message", "") for step in STEPS},
            "agent_name": data.get("agent_name", ""),
            "booking_link": booking_link_example(data.get("cal_booking_link", "")),
            "auto_append_opt_out": bool(data.get("auto_append_opt_out")),
        }
    else:
        values = {
            "messages": {"M1": options.m1_message, "M2": options.m2_message, "M3": options.m3_message},
            "agent_name": options.agent_name,
            "booking_link": booking_link_example(options.cal_booking_link),
            "auto_append_opt_out": options.auto_append_opt_out,
        }
    previews = message_previews(
        **values,
        lead=lead,
        company_name=request.tenant.company_name,
        custom_columns=dataset_custom_columns(dataset),
    )
    return {"dataset": dataset, "previews": previews, "sample": lead}


def _campaign_page(request, dataset, *, form=None, refused=None, test_form=None):
    # Fresh from the database: a refused action or an invalid form may have changed the objects in hand.
    dataset = Dataset.objects.select_related("campaign_settings").get(pk=dataset.pk)
    options = settings_for_editing(dataset)
    editable = can(request.user, Action.EDIT_CAMPAIGN_SETTINGS)
    form = form or CampaignSettingsForm(
        instance=options, editable=editable, preview_url=reverse("campaign_preview", args=[dataset.pk])
    )
    data = form.data if form.is_bound else None
    return render(
        request,
        "campaigns/detail.html",
        {
            **_preview_context(request, dataset, options, data),
            "nav": "campaigns",
            "options": options,
            "own_settings": dataset.campaign_settings is not None and not dataset.campaign_settings.is_template,
            "form": form,
            "editable": editable,
            "time_zones": time_zone_choices(),
            "readiness": start_problems(dataset, request.tenant),
            "refused": refused,
            **campaign_figures(dataset),
            **campaign_timing(dataset, options, now=timezone.now()),
            "templates_form": TemplateChoiceForm(),
            "has_templates": CampaignSettings.objects.filter(is_template=True).exists(),
            "pause_form": PauseForm(),
            "test_form": test_form or TestSendForm(user_phone=request.user.phone),
            "sending_number": sending_number(options, request.tenant),
        },
    )
