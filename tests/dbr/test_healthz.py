import time

from django.conf import settings

from dbr import health


def test_it_reports_database_redis_and_worker_on_the_public_host(tenants, db, client):
    health.record_worker_heartbeat(time.time())

    response = client.get("/healthz", HTTP_HOST="localhost")

    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["redis"]["ok"] and body["worker"]["ok"]


def test_it_answers_on_a_client_host_too(tenants, db, client):
    response = client.get("/healthz", HTTP_HOST="alpha.localhost")

    assert response.status_code == 200
    assert response.json()["database"]["ok"]


def test_it_says_when_no_worker_answered_recently(tenants, db, client):
    health.record_worker_heartbeat(time.time() - settings.DBR_WORKER_STALE_SECONDS - 60)

    body = client.get("/healthz", HTTP_HOST="localhost").json()

    assert body["worker"]["ok"] is False
    assert body["worker"]["last_seen_seconds_ago"] > settings.DBR_WORKER_STALE_SECONDS


def test_it_returns_503_when_redis_is_down(tenants, db, client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz", HTTP_HOST="localhost")

    assert response.status_code == 503
    assert response.json()["redis"]["ok"] is False


def test_it_shows_a_proper_404_page_for_an_unknown_host(tenants, db, client):
    response = client.get("/", HTTP_HOST="nobody.localhost")

    assert response.status_code == 404
    assert b"No client at this address" in response.content


def test_it_shows_404_not_500_for_unknown_paths_on_a_client_host(tenants, db, client, settings):
    settings.DEBUG = False

    response = client.get("/no-such-page/", HTTP_HOST="alpha.localhost")

    assert response.status_code == 404
