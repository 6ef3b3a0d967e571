import json
from functools import cache
from urllib.parse import unquote_to_bytes

from django.core.exceptions import BadRequest, DisallowedHost
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponseBadRequest, HttpResponseNotFound
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name

from clients.access import belongs_here, client_url
from clients.models import Client, Domain
from clients.queue import client_activity_mark

NUL = "\x00"


class TenantMiddleware(TenantMainMiddleware):
    """django-tenants' host → schema middleware, with a proper page for unknown hosts.

    The client is read fresh on every request, but in one statement on the public tables by name, so the
    connection need not switch to public first; and when the request is for the schema the connection is
    already on, its search_path is kept instead of being set again. That is three round trips and an ORM
    query compile fewer per request (bench/inbound: the lookup was ~40% of the webhook's CPU).
    """

    def process_request(self, request):
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return HttpResponseNotFound()
        tenant = client_for_host(hostname)
        if tenant is None:
            connection.set_schema_to_public()
            return self.no_tenant_found(request, hostname)
        tenant.domain_url = hostname
        request.tenant = tenant
        client_activity_mark(tenant)  # beat's sweeps visit this client for a while (usually no query)
        if connection.schema_name == tenant.schema_name and connection.include_public_schema:
            connection.tenant = tenant  # same schema: the search_path already set stays valid
        else:
            connection.set_tenant(tenant)
        self.setup_url_routing(request)

    def no_tenant_found(self, request, hostname):
        from dbr.views import unknown_host

        return unknown_host(request, hostname)


def client_for_host(hostname: str) -> Client | None:
    """The client a host name belongs to (django-tenants' Domain), whatever schema the connection is on.

    This lookup is the request's first statement, so it is also the health check of a reused connection:
    Django's own check would cost a `SELECT 1` round trip first. A connection the server dropped (a
    database restart) fails here; it is closed and the lookup runs once more on a new one, so the first
    request after a restart is still answered (Twilio never resends an SMS webhook that got a 500).
    """
    columns, sql = _client_for_host_sql()
    try:
        row = _lookup(sql, hostname)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        connection.close()
        row = _lookup(sql, hostname)
    return None if row is None else Client.from_db(connection.alias, columns, row)


def _lookup(sql: str, hostname: str) -> tuple | None:
    if connection.connection is not None:
        connection.health_check_done = True  # this statement is the check (see client_for_host)
    with connection.cursor() as cursor:
        cursor.execute(sql, [hostname])
        return cursor.fetchone()


@cache
def _client_for_host_sql() -> tuple[list[str], str]:
    quote, public = connection.ops.quote_name, connection.ops.quote_name(get_public_schema_name())
    fields = Client._meta.concrete_fields
    sql = (
        f"SELECT {', '.join(f'c.{quote(f.column)}' for f in fields)} "
        f"FROM {public}.{quote(Client._meta.db_table)} c JOIN {public}.{quote(Domain._meta.db_table)} d "
        f"ON d.{quote(Domain._meta.get_field('tenant').column)} = c.{quote(Client._meta.pk.column)} "
        f"WHERE d.{quote('domain')} = %s"
    )
    return [f.attname for f in fields], sql


class ClientAccessMiddleware:
    """The one place a signed-in user of another client is refused on this client's host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        user = request.user
        if tenant is not None and not tenant.is_public and user.is_authenticated and not belongs_here(user, tenant):
            home = client_url(user.client) if user.client_id else None
            return render(request, "errors/wrong_client.html", {"home": home}, status=403)
        return self.get_response(request)


class BadInputMiddleware:
    """The one place malformed input is refused: 400 for a NUL or invalid UTF-8 in the path, the
    query string or a form field (docs/security.md §3), before any view or query sees it.

    Views marked `keeps_raw_input` (Twilio's signed webhooks, whose signature covers the raw values)
    are let through; they store U+FFFD instead.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "keeps_raw_input", False):
            return None
        problem = _bad_input(request)
        if problem is None:
            return None
        return _bad_request(
            f"The request was refused: {problem}. Remove the character and try again.", api=_is_api(request)
        )

    def process_exception(self, request, exception):
        # A malformed id (clients.params) or any other BadRequest: its message, not a bare error page.
        if isinstance(exception, BadRequest):
            return _bad_request(f"The request was refused: {exception}", api=_is_api(request))
        return None


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _bad_request(text: str, *, api: bool = False) -> HttpResponseBadRequest:
    if api:  # the API's one error shape (docs/api.md)
        body = {"error": {"code": "parse_error", "message": text, "fields": {}}}
        return HttpResponseBadRequest(json.dumps(body), content_type="application/json")
    return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")


def _bad_input(request) -> str | None:
    if NUL in request.path:
        return "the address contains a NUL character"
    if problem := _bad_pairs(_raw(request.META.get("QUERY_STRING", "")), "the query string"):
        return problem
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        return _bad_pairs(request.body, "a form field")
    if content_type == "multipart/form-data":
        # Django has already decoded the fields, replacing invalid UTF-8 with U+FFFD.
        for name, values in request.POST.lists():
            if any(NUL in v or "\ufffd" in v for v in [name, *values]):
                return f"the form field {name[:40]!r} contains a NUL character or text that is not valid UTF-8"
    return None


def _raw(query_string: str) -> bytes:
    # WSGI hands the query string over as latin-1 text of the raw bytes (PEP 3333).
    try:
        return query_string.encode("latin-1")
    except UnicodeEncodeError:
        return query_string.encode("utf-8")


def _bad_pairs(raw: bytes, where: str) -> str | None:
    for pair in raw.split(b"&"):
        for part in pair.split(b"=", 1):
            try:
                text = unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
            except UnicodeDecodeError:
                return f"{where} contains text that is not valid UTF-8"
            if NUL in text:
                return f"{where} contains a NUL character"
    return None
