"""API tokens (docs/api.md §Tokens): made, listed and revoked here, by the Settings page and the API alike.

Only a SHA-256 of each key is stored: the key is shown once, when made, and cannot be shown again.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet

from clients.models import ApiToken, Client, User
from clients.roles import is_client_admin

KEY_BYTES = 30  # 40 URL-safe characters
NAME_MAX = 100
# `last_used_at` is written at most this often per token, not on every request.
LAST_USED_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    key: str  # the only time the key exists in clear


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: User, name: str) -> NewToken:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Give the token a name, such as the tool that will use it."})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": f"A token's name is at most {NAME_MAX} characters."})
    key = secrets.token_urlsafe(KEY_BYTES)
    token = ApiToken.objects.create(user=user, name=name, key_hash=key_hash(key), prefix=key[:8])
    return NewToken(token, key)


def api_token_for_key(key: str) -> ApiToken | None:
    """The live token this key belongs to (None: unknown or revoked), with its user: one query on the unique
    hash, run on every API request, so it joins only what authentication reads (the request's client is
    the host's, `request.tenant`, not the user's)."""
    if not key or len(key) > 200:
        return None
    found = ApiToken.objects.select_related("user").filter(key_hash=key_hash(key), revoked_at__isnull=True)[:1]
    return found[0] if found else None


def api_token_touch(*, token: ApiToken, at: datetime) -> None:
    """Records use, throttled: one UPDATE per token per LAST_USED_EVERY, however many requests."""
    if token.last_used_at is not None and at - token.last_used_at < LAST_USED_EVERY:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=at)
    token.last_used_at = at


def api_tokens_visible_to(user: User, client: Client) -> QuerySet[ApiToken]:
    """A user's own tokens; a client admin sees every token of the client's users."""
    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    if is_client_admin(user):
        return tokens.filter(user__client=client)
    return tokens.filter(user=user)


def api_token_revoke(*, token: ApiToken, actor: User, client: Client, at: datetime) -> ApiToken:
    if token.user_id != actor.pk and not (is_client_admin(actor) and token.user.client_id == client.pk):
        raise PermissionDenied("You can revoke only your own tokens.")
    if token.revoked_at is None:
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=at)
        token.revoked_at = at
    return token
