"""What every API endpoint shares (docs/api.md): keyset pagination, one error shape, throttling per token,
and `Idempotency-Key` for the POSTs that send a text or start an import.

Set once in REST_FRAMEWORK (dbr/settings.py), so every app's viewsets get them without asking.
"""

import base64
import binascii
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import BadRequest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from redis.exceptions import RedisError
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import exception_handler as drf_exception_handler

from clients.models import ApiIdempotencyKey, ApiToken

log = logging.getLogger(__name__)

# --- Errors ------------------------------------------------------------------------------------------


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable and machine-readable, e.g. `invalid`, `not_found`, `throttled`.")
    message = serializers.CharField(help_text="For a person: what went wrong and what to do.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per field (`non_field_errors` for the whole request), the problems with it; empty otherwise.",
    )


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers has this one shape."""

    error = ErrorBodySerializer()


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {text}" for key, value in detail.items() for text in _messages(value)]
    if isinstance(detail, list):
        return [text for item in detail for text in _messages(item)]
    return [str(detail)]


def _fields(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": _messages(detail)}
    return {}


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return exc.default_code


def error_response(status_code: int, code: str, message: str, fields: dict | None = None, **kwargs) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=status_code, **kwargs)


def api_exception_handler(exc, context):
    """DRF's handler, with Django's own exceptions mapped and every body in the one error shape."""
    if isinstance(exc, BadRequest):
        exc = exceptions.ParseError(str(exc))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found, or not visible to you.")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(detail)
        whole = {"non_field_errors", "detail"}  # about the request as a whole, not one field
        message = (
            " ".join(text for name in fields for text in fields[name])
            if fields and set(fields) <= whole
            else "Some fields are not valid: " + "; ".join(_messages(detail))
        )
        code = "invalid"
    else:
        fields, message, code = {}, " ".join(_messages(detail)), _code(exc)
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response


# --- Parameters --------------------------------------------------------------------------------------


def choice_param(request, name: str, choices) -> str:
    """An optional query parameter that must be one of `choices` (400 otherwise); '' when absent."""
    value = request.query_params.get(name, "")
    if value and value not in choices:
        raise exceptions.ValidationError({name: [f"Use one of: {', '.join(choices)}."]})
    return value


def json_object(request, message: str = "Send a JSON object.") -> dict:
    """The request's body, refused with a clear message unless it is a JSON object (not a list or a string)."""
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError({"non_field_errors": [message]})
    return request.data


def bool_param(request, name: str) -> bool | None:
    value = request.query_params.get(name, "")
    if not value:
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise exceptions.ValidationError({name: ["Use true or false."]})


# --- Strict fields -----------------------------------------------------------------------------------


class TextField(serializers.CharField):
    """A string, never a number or a boolean quietly turned into one (a CRM field mapped wrong)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class IdField(serializers.UUIDField):
    """A UUID written as a string: DRF's own would take the number 7 as UUID(int=7)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


# --- Keyset pagination -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One column of a keyset ordering; `nullable` columns sort their NULLs last in either direction."""

    field: str
    descending: bool = False
    nullable: bool = False


class KeysetPagination(BasePagination):
    """Forward-only keyset ("cursor") pagination: `?limit=` (1–200) and the opaque `?cursor=` from `next`.

    The view gives its ordering as a list of `Key` (`keyset(request)` or `keyset_ordering`); the primary
    key is always added last as the tie-breaker, so a page never repeats or skips a row, however many
    rows share a value. A page costs one index range scan, however deep in the list it is.
    """

    default_limit = 50
    max_limit = 200
    cursor_query_param = "cursor"
    limit_query_param = "limit"

    def _keys(self, view, request) -> list[Key]:
        keys = list(view.keyset(request) if hasattr(view, "keyset") else getattr(view, "keyset_ordering", []))
        if not keys:
            keys = [Key("created_at", descending=True)]
        if keys[-1].field not in ("id", "pk"):
            keys.append(Key("id", descending=keys[-1].descending))
        return keys

    def _limit(self, request) -> int:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None or raw == "":
            return self.default_limit
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= self.max_limit:
            raise exceptions.ValidationError({"limit": [f"Give a whole number from 1 to {self.max_limit}."]})
        return limit

    def _decode(self, raw: str, keys: list[Key], model) -> list:
        try:
            values = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
            if not isinstance(values, list) or len(values) != len(keys):
                raise ValueError
            return [
                None if value is None else model._meta.get_field(key.field).to_python(value)
                for key, value in zip(keys, values, strict=True)
            ]
        except (ValueError, TypeError, UnicodeError, binascii.Error, DjangoValidationError):
            raise exceptions.ValidationError(
                {"cursor": ["This cursor is not valid: use the `next` link of the previous page as it is."]}
            ) from None

    @staticmethod
    def _encode(values: list) -> str:
        text = json.dumps(
            [None if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v)) for v in values]
        )
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @staticmethod
    def _order(keys: list[Key]) -> list:
        from django.db.models import F

        return [
            F(key.field).desc(nulls_last=True) if key.descending else F(key.field).asc(nulls_last=True) for key in keys
        ]

    @staticmethod
    def _after(queryset: QuerySet, keys: list[Key], values: list) -> QuerySet:
        model = queryset.model
        if all(not k.nullable for k in keys) and len({k.descending for k in keys}) == 1:
            # One row comparison: PostgreSQL walks a (a, b, id) index from the cursor on.
            table = connection.ops.quote_name(model._meta.db_table)
            columns = ", ".join(
                f"{table}.{connection.ops.quote_name(model._meta.get_field(k.field).column)}" for k in keys
            )
            operator = "<" if keys[0].descending else ">"
            placeholders = ", ".join(["%s"] * len(keys))
            return queryset.extra(where=[f"({columns}) {operator} ({placeholders})"], params=values)  # noqa: S610
        after = Q(pk__in=[])
        for i, key in enumerate(keys):
            same = Q()
            for earlier, value in zip(keys[:i], values[:i], strict=True):
                same &= Q(**{f"{earlier.field}__isnull": True}) if value is None else Q(**{earlier.field: value})
            value = values[i]
            if value is None:
                continue  # nothing sorts after a NULL within the NULLs (they come last)
            beyond = Q(**{f"{key.field}__{'lt' if key.descending else 'gt'}": value})
            if key.nullable:
                beyond |= Q(**{f"{key.field}__isnull": True})
            after |= same & beyond
        return queryset.filter(after)

    def paginate_queryset(self, queryset, request, view=None):
        keys = self._keys(view, request)
        limit = self._limit(request)
        queryset = queryset.order_by(*self._order(keys))
        if raw := request.query_params.get(self.cursor_query_param):
            queryset = self._after(queryset, keys, self._decode(raw, keys, queryset.model))
        rows = list(queryset[: limit + 1])
        self.request = request
        self.next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            self.next_cursor = self._encode([getattr(last, key.field) for key in keys])
        return rows

    def get_next_link(self) -> str | None:
        if self.next_cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page, or null on the last one.",
                    "example": "https://acme.example.com/api/leads/?cursor=WyIyMDI2LTExLTMwVDEwOjAwOjAwKzAwOjAwIl0",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque: the `next` link of the previous page carries it.",
                "schema": {"type": "string"},
            },
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1–{self.max_limit} (default {self.default_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
        ]

    def first_page_url(self, request) -> str:
        return remove_query_param(request.build_absolute_uri(), self.cursor_query_param)


# --- Throttling ----------------------------------------------------------------------------------------


# A sliding window of request times per key, as DRF's SimpleRateThrottle keeps it (times older than the
# window dropped; at the limit the request is refused and not counted), in one Redis round trip instead
# of a GET and a SET of the whole pickled history. Returns {allowed, requests in the window, the oldest}.
THROTTLE_SCRIPT = """
local now, duration, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - duration)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, count, oldest[2]}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(duration))
return {1, count + 1, tostring(now)}
"""


class TokenRateThrottle(SimpleRateThrottle):
    """`DBR_API_RATE` requests per token (per user for a browser session), counted in Redis so every web
    process shares the count; past it, 429 with `Retry-After`."""

    scope = "api"
    cache = caches["api"]
    _script = None

    def get_rate(self) -> str:
        return settings.DBR_API_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"dbr:throttle:{self.scope}:{ident}"

    def _count(self, key: str, now: float) -> tuple[bool, int, float]:
        """Counts this request in the key's window if it fits: (allowed, requests in it, the oldest's time)."""
        cache_key = self.cache.make_and_validate_key(key)
        client = self.cache._cache.get_client(cache_key, write=True)
        if TokenRateThrottle._script is None:
            TokenRateThrottle._script = client.register_script(THROTTLE_SCRIPT)
        member = f"{now!r}:{base64.urlsafe_b64encode(os.urandom(6)).decode()}"
        allowed, count, oldest = TokenRateThrottle._script(
            keys=[cache_key], args=[repr(now), self.duration, self.num_requests, member], client=client
        )
        return bool(allowed), int(count), float(oldest)

    def allow_request(self, request, view):
        # The rate may change under test (settings), so it is read at each request, not once at import.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        try:
            allowed, self.count, self.oldest = self._count(self.key, self.now)
        except RedisError:
            # Redis only counts: when it is down the API keeps answering, unthrottled, rather than failing.
            log.warning("API throttle: Redis unavailable, request let through")
            return True
        return allowed

    def wait(self) -> float | None:
        """Seconds until a request would fit, as DRF reckons it (the window's oldest request ageing out,
        spread over the requests still available)."""
        remaining = self.duration - (self.now - self.oldest)
        available = self.num_requests - self.count + 1
        if available <= 0:
            return None
        return remaining / available


# --- Idempotency ------------------------------------------------------------------------------------

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEPT = timedelta(hours=24)

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID is ideal), up to 255 characters. A repeat with the same key within 24 hours "
        "returns the first response instead of acting again; a repeat while the first is still running gets 409."
    ),
)


def idempotent(request, produce: Callable[[], Response]) -> Response:
    """Runs `produce` once per (user, client, Idempotency-Key); repeats get the first response back.

    The key is claimed in its own committed row before the work starts, so a concurrent repeat finds it
    claimed and is told to wait (409) rather than doing the work a second time.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return produce()
    if not key.strip() or len(key) > 255:
        raise exceptions.ValidationError({IDEMPOTENCY_HEADER: ["Send 1–255 characters, such as a UUID."]})
    now = timezone.now()
    schema = connection.schema_name
    ApiIdempotencyKey.objects.filter(user=request.user, created_at__lt=now - IDEMPOTENCY_KEPT).delete()
    row, created = ApiIdempotencyKey.objects.get_or_create(
        user=request.user,
        schema_name=schema,
        key=key,
        defaults={"method": request.method, "path": request.path},
    )
    if not created:
        if (row.method, row.path) != (request.method, request.path):
            return error_response(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                f"This {IDEMPOTENCY_HEADER} was used for another request ({row.method} {row.path}): use a new key.",
            )
        if row.status_code is None:
            return error_response(
                status.HTTP_409_CONFLICT,
                "request_in_progress",
                f"A request with this {IDEMPOTENCY_HEADER} is still being processed: try again in a moment.",
                headers={"Retry-After": "1"},
            )
        return Response(row.body, status=row.status_code, headers={"Idempotent-Replayed": "true"})
    try:
        response = produce()
    except BaseException:
        row.delete()  # nothing was done: the same key may be tried again
        raise
    if response.status_code >= 500:
        row.delete()
    else:
        ApiIdempotencyKey.objects.filter(pk=row.pk).update(
            status_code=response.status_code, body=json.loads(json.dumps(response.data, default=str))
        )
    return response


# --- Schema -------------------------------------------------------------------------------------------

ERROR_STATUSES = {
    "400": "Malformed id, parameter or body; `fields` says which.",
    "401": "No valid token or session (a suspended user's tokens stop working).",
    "403": "Signed in, but this client's data or this action is not yours to reach.",
    "404": "Not found, or not visible to you.",
    "409": "Refused in the object's current state (or the same Idempotency-Key is still being processed).",
    "429": "Too many requests for this token: wait `Retry-After` seconds.",
}
IDEMPOTENCY_STATUSES = {
    "422": "This Idempotency-Key was used for another request.",
}
ERROR_EXAMPLE = {
    "error": {
        "code": "invalid",
        "message": "Some fields are not valid: text: Write a message.",
        "fields": {"text": ["Write a message."]},
    }
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular hook: every operation documents the one error shape for every error it can answer."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "fields"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                }
            },
            "example": ERROR_EXAMPLE,
        },
    )
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = dict(ERROR_STATUSES)
            if any(p.get("name") == IDEMPOTENCY_HEADER for p in operation.get("parameters", [])):
                statuses |= IDEMPOTENCY_STATUSES
            for code, description in statuses.items():
                operation["responses"].setdefault(code, {"description": description, "content": error})
    return result


# Viewset mixin: a malformed id in the path is the caller's mistake (400), never a 404 or a 500.
# (A comment, not a docstring: drf-spectacular would show a docstring as every such viewset's description.)
class UuidLookup:
    def get_object(self):
        from clients.params import uuid_param

        uuid_param(str(self.kwargs[self.lookup_url_kwarg or self.lookup_field]), name="id")
        return super().get_object()
