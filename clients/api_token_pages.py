"""Settings › API tokens: make (named, key shown once), see and revoke tokens (docs/api.md §Tokens)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from clients.access import client_url
from clients.api_tokens import NAME_MAX, api_token_create, api_token_revoke, api_tokens_visible_to
from clients.params import uuid_param
from clients.roles import is_client_admin


@login_required
def api_tokens_page(request):
    """GET lists the tokens; POST `name` makes one (its key shown on this answer only); POST `revoke` ends one."""
    new_key, error, status = None, "", 200
    if request.method == "POST":
        if revoke := request.POST.get("revoke"):
            token = api_tokens_visible_to(request.user, request.tenant).filter(pk=uuid_param(revoke, name="revoke"))
            token = token.first()
            if token is None:
                messages.error(request, "That token is not one you can revoke.")
            else:
                try:
                    api_token_revoke(token=token, actor=request.user, client=request.tenant, at=timezone.now())
                except PermissionDenied as exc:
                    messages.error(request, str(exc))
                else:
                    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
            return redirect("settings_api_tokens")
        try:
            made = api_token_create(user=request.user, name=request.POST.get("name", ""))
        except ValidationError as exc:
            error, status = " ".join(exc.message_dict.get("name", exc.messages)), 400
        else:
            new_key = made
    tokens = api_tokens_visible_to(request.user, request.tenant)
    context = {
        "nav": "settings",
        "tokens": tokens.filter(revoked_at=None),
        "revoked": tokens.exclude(revoked_at=None)[:20],
        "new": new_key,
        "error": error,
        "name_max": NAME_MAX,
        "sees_all": is_client_admin(request.user),
        "api_base": client_url(request.tenant, "/api/"),
        "docs_url": reverse("api_docs"),
        "redoc_url": reverse("api_redoc"),
    }
    response = render(request, "settings/api_tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the key is on this page once
    return response
