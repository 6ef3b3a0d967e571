"""The host → client middleware: the client read fresh each request, the search_path set only on a change."""

from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from campaigns.models import InboundSms
from clients.models import Client
from dbr.middleware import TenantMiddleware


def _through_middleware(host: str):
    """What a view on `host` sees: the request's client, the connection's schema, the texts it can read."""
    seen = {}

    def view(request):
        seen.update(
            tenant=request.tenant,
            schema=connection.schema_name,
            sids=set(InboundSms.objects.values_list("message_sid", flat=True)),
        )
        return HttpResponse()

    response = TenantMiddleware(view)(RequestFactory().get("/", HTTP_HOST=host))
    return response, seen


def _text(client: Client, sid: str) -> None:
    connection.set_tenant(client)
    InboundSms.objects.create(message_sid=sid, from_number="+447700900001", received_at="2026-01-01T10:00Z")


def test_it_switches_schema_between_clients_on_successive_requests(tenants, db):
    alpha, beta = tenants["alpha"], tenants["beta"]
    _text(alpha, "SM-alpha")
    _text(beta, "SM-beta")

    for host, client, sid in [("alpha.localhost", alpha, "SM-alpha"), ("beta.localhost", beta, "SM-beta")] * 2:
        _, seen = _through_middleware(host)

        assert seen["tenant"] == client and seen["schema"] == client.schema_name
        assert seen["sids"] == {sid}


def test_it_reads_the_client_fresh_on_every_request(tenants, db):
    _through_middleware("alpha.localhost")
    Client.objects.filter(pk=tenants["alpha"].pk).update(company_name="Alpha Renamed Ltd")

    _, seen = _through_middleware("alpha.localhost")

    assert seen["tenant"].company_name == "Alpha Renamed Ltd"


def test_a_second_request_for_the_same_client_is_one_lookup_and_no_search_path(tenants, db):
    _through_middleware("alpha.localhost")

    with CaptureQueriesContext(connection) as queries:
        _through_middleware("alpha.localhost")

    statements = [query["sql"] for query in queries.captured_queries]
    assert not any(sql.startswith("SET search_path") for sql in statements)
    assert len(statements) == 2  # the lookup, the view's query


def test_an_unknown_host_is_answered_on_the_public_schema(tenants, db):
    _through_middleware("alpha.localhost")

    response, seen = _through_middleware("nobody.localhost")

    assert response.status_code == 404 and seen == {}
    assert connection.schema_name == "public"


def _drop_this_connection_on_the_server() -> None:
    """What a database restart does to a persistent connection: the server ends its backend."""
    import psycopg
    from django.conf import settings

    pid = connection.connection.info.backend_pid
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_the_lookup_is_the_health_check_no_select_1_first(tenants, committed_db, monkeypatch):
    """A reused connection is checked by the lookup itself: Django's `SELECT 1` round trip is not made."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    _through_middleware("alpha.localhost")
    assert connection.health_check_enabled
    connection.health_check_done = False  # what request_started does to a persistent connection
    checks = []
    monkeypatch.setattr(DatabaseWrapper, "is_usable", lambda self: checks.append(self) or True)

    response, seen = _through_middleware("alpha.localhost")

    assert response.status_code == 200 and seen["tenant"] == tenants["alpha"]
    assert checks == []


def test_the_first_request_after_the_database_dropped_the_connection_is_answered(tenants, committed_db):
    """Twilio never resends an SMS webhook that got a 500: a dead connection is replaced, not reported."""
    _through_middleware("alpha.localhost")
    connection.health_check_done = False
    _drop_this_connection_on_the_server()

    response, seen = _through_middleware("alpha.localhost")

    assert response.status_code == 200
    assert seen["tenant"] == tenants["alpha"] and seen["schema"] == tenants["alpha"].schema_name
