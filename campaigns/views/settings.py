"""Settings: the client's own configuration, one page per part, each for the roles allowed (docs/settings.md)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from campaigns.twilio_signature import twilio_webhook_urls
from clients.access import client_url
from clients.branding import MAX_LOGO_BYTES, client_brand_colour_set, client_logo_remove, client_logo_set
from clients.forms import (
    BrandColourForm,
    ClientProfileForm,
    InviteForm,
    LogoForm,
    SendingNumberForm,
    TimeZoneForm,
    UserAccessForm,
)
from clients.models import SendingNumber, User
from clients.numbers import client_default_number_set, sending_number_add, sending_number_remove
from clients.roles import Action, can, require
from clients.services import (
    PROFILE_FIELDS,
    client_cal_secret_regenerate,
    client_profile_update,
    client_timezone_set,
    user_invite,
    user_reactivate,
    user_suspend,
    user_update_access,
)
from leads.outbound_pages import outbound_section
from leads.selectors import datasets_visible_to


def settings_parts(user) -> list[dict]:
    """The settings sub-navigation: only the parts this user may open; API tokens once that page exists."""
    parts = [{"name": "settings", "label": "General"}]
    if can(user, Action.EDIT_CLIENT_SETTINGS):
        parts += [{"name": "settings_company", "label": "Company and branding"}]
        parts += [{"name": "settings_numbers", "label": "Twilio numbers"}]
    try:
        parts.append({"name": "settings_api_tokens", "label": "API tokens", "url": reverse("settings_api_tokens")})
    except NoReverseMatch:
        pass
    if can(user, Action.MANAGE_USERS):
        parts.append({"name": "settings_users", "label": "Users"})
    for part in parts:
        part.setdefault("url", reverse(part["name"]))
    return parts


def _settings_render(request, template: str, context: dict, status: int = 200):
    context = {"nav": "settings", "settings_parts": settings_parts(request.user), **context}
    return render(request, template, context, status=status)


@login_required
def settings_home(request):
    cal = {"url": client_url(request.tenant, reverse("cal_webhook")), "secret": request.tenant.cal_webhook_secret}
    return _settings_render(request, "settings/home.html", {"cal": cal, **outbound_section(request)})


# --- Company: profile, branding, time zone ---------------------------------------------------------


def _company_forms(client, **bound) -> dict:
    forms = {
        "profile_form": ClientProfileForm(initial={field: getattr(client, field) for field in PROFILE_FIELDS}),
        "colour_form": BrandColourForm(initial={"primary_color": client.primary_color}),
        "logo_form": LogoForm(),
        "timezone_form": TimeZoneForm(initial={"timezone": client.timezone}),
    }
    return {**forms, **bound}


def _company_page(request, status: int = 200, **bound):
    return _settings_render(request, "settings/company.html", _company_forms(request.tenant, **bound), status)


@login_required
def settings_company(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    return _company_page(request)


def _saved_or_errors(request, form, key: str, save, done: str):
    """Runs `save` for a valid form; any refusal is shown beside the field it concerns (400), never a 500."""
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]:
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, done)
            return redirect(reverse("settings_company") + f"#{key}")
    return _company_page(request, status=400, **{f"{key}_form": form})


@login_required
@require_POST
def settings_profile(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    form = ClientProfileForm(request.POST)
    save = lambda data: client_profile_update(client=request.tenant, **data)  # noqa: E731
    return _saved_or_errors(request, form, "profile", save, "Company details saved.")


@login_required
@require_POST
def settings_brand_colour(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    form = BrandColourForm(request.POST)
    save = lambda data: client_brand_colour_set(client=request.tenant, colour=data["primary_color"])  # noqa: E731
    return _saved_or_errors(request, form, "colour", save, "Brand colour saved.")


@login_required
@require_POST
def settings_logo(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    form = LogoForm(request.POST, request.FILES)

    def save(data):
        upload = data["logo"]
        if upload.size > MAX_LOGO_BYTES:  # refused before it is read into memory
            raise ValidationError(f"The logo is {upload.size / 1024 / 1024:.1f} MB; the most we take is 1 MB.")
        client_logo_set(client=request.tenant, data=upload.read())

    return _saved_or_errors(request, form, "logo", save, "Logo saved: it shows in the top bar and on the sign-in page.")


@login_required
@require_POST
def settings_logo_remove(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    client_logo_remove(client=request.tenant)
    messages.success(request, "Logo removed.")
    return redirect(reverse("settings_company") + "#logo")


@login_required
@require_POST
def settings_timezone(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    form = TimeZoneForm(request.POST)
    save = lambda data: client_timezone_set(client=request.tenant, zone=data["timezone"])  # noqa: E731
    return _saved_or_errors(request, form, "timezone", save, "Time zone saved.")


# --- Twilio numbers --------------------------------------------------------------------------------


def _numbers_page(request, form=None, status: int = 200):
    context = {
        "numbers": SendingNumber.objects.filter(client=request.tenant).order_by("number"),
        "webhooks": twilio_webhook_urls(request.tenant),
        "number_form": form or SendingNumberForm(),
    }
    return _settings_render(request, "settings/numbers.html", context, status)


@login_required
def settings_numbers(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    return _numbers_page(request)


@login_required
@require_POST
def settings_number_add(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    form = SendingNumberForm(request.POST)
    if form.is_valid():
        try:
            number = sending_number_add(client=request.tenant, number=form.cleaned_data["number"])
        except ValidationError as exc:
            form.add_error("number", exc)
        else:
            messages.success(request, f"{number.number} is registered: paste the webhook URL below into Twilio.")
            return redirect("settings_numbers")
    return _numbers_page(request, form, status=400)


@login_required
@require_POST
def settings_number_remove(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    try:
        sending_number_remove(client=request.tenant, number=request.POST.get("number", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Number removed: texts to it are no longer taken as this client's.")
    return redirect("settings_numbers")


@login_required
@require_POST
def settings_cal_secret(request):
    """A new Cal.com webhook secret, to paste into Cal.com at once."""
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    client_cal_secret_regenerate(client=request.tenant)
    messages.success(request, "New Cal.com secret made: paste it into Cal.com now; the old one no longer works.")
    return redirect(reverse("settings") + "#cal")


def _client_users(request):
    return User.objects.filter(client=request.tenant)


@login_required
def settings_users(request):
    require(request.user, Action.MANAGE_USERS)
    users = _client_users(request).order_by("status", "email")
    return _settings_render(request, "settings/users.html", {"users": users})


@login_required
def settings_user_invite(request):
    require(request.user, Action.MANAGE_USERS)
    datasets = datasets_visible_to(request.user).order_by("name")
    form = InviteForm(request.POST or None, datasets=datasets)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = user_invite(
                client=request.tenant,
                email=data["email"],
                role=data["role"],
                invited_by=request.user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                allowed_dataset_ids=form.allowed_dataset_ids(),
                **form.flags(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Invitation sent to {user.email}.")
            return redirect("settings_users")
    return _settings_render(request, "settings/user_form.html", {"form": form, "inviting": True})


@login_required
def settings_user_edit(request, pk):
    require(request.user, Action.MANAGE_USERS)
    member = get_object_or_404(_client_users(request), pk=pk)
    datasets = datasets_visible_to(request.user).order_by("name")
    form = UserAccessForm(request.POST or None, datasets=datasets, initial=UserAccessForm.initial_for(member))
    if request.method == "POST" and form.is_valid():
        try:
            user_update_access(
                user=member,
                by=request.user,
                role=form.cleaned_data["role"],
                flags=form.flags(),
                allowed_dataset_ids=form.allowed_dataset_ids(),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Access of {member.email} saved.")
            return redirect("settings_users")
    return _settings_render(request, "settings/user_form.html", {"form": form, "member": member})


@login_required
@require_POST
def settings_user_suspend(request, pk):
    require(request.user, Action.MANAGE_USERS)
    member = get_object_or_404(_client_users(request), pk=pk)
    try:
        user_suspend(user=member, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{member.email} is suspended and can no longer sign in.")
    return _users_response(request)


@login_required
@require_POST
def settings_user_reactivate(request, pk):
    require(request.user, Action.MANAGE_USERS)
    member = get_object_or_404(_client_users(request), pk=pk)
    try:
        user_reactivate(user=member, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{member.email} is active again.")
    return _users_response(request)


def _users_response(request):
    if request.htmx:
        users = _client_users(request).order_by("status", "email")
        return render(request, "settings/users.html#user-table", {"users": users})
    return redirect("settings_users")


@login_required
@require_POST
def settings_number_default(request):
    require(request.user, Action.EDIT_CLIENT_SETTINGS)
    number = request.POST.get("number", "")
    try:
        client_default_number_set(client=request.tenant, number=number)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{number} is the default: datasets that name no number text from it.")
    return redirect("settings_numbers")
