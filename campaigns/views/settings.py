"""Settings: the client's own configuration pages (users today)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from clients.access import client_url
from clients.forms import InviteForm, UserAccessForm
from clients.models import User
from clients.roles import Action, require
from clients.services import (
    client_cal_secret_regenerate,
    user_invite,
    user_reactivate,
    user_suspend,
    user_update_access,
)
from leads.outbound_pages import outbound_section
from leads.selectors import datasets_visible_to


@login_required
def settings_home(request):
    cal = {"url": client_url(request.tenant, reverse("cal_webhook")), "secret": request.tenant.cal_webhook_secret}
    return render(request, "settings/home.html", {"nav": "settings", "cal": cal, **outbound_section(request)})


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
    return render(request, "settings/users.html", {"users": users, "nav": "settings"})


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
    return render(request, "settings/user_form.html", {"form": form, "nav": "settings", "inviting": True})


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
    return render(request, "settings/user_form.html", {"form": form, "member": member, "nav": "settings"})


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
