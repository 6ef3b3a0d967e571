import pytest

from campaigns.transports import forget_transports
from tests.fakes.twilio_server import FakeTwilio


@pytest.fixture
def fake_twilio(settings):
    """A fake Twilio REST server; the twilio backend is configured to use it. Stopped at teardown."""
    fake = FakeTwilio().start()
    settings.DBR_SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = fake.account_sid
    settings.TWILIO_AUTH_TOKEN = fake.auth_token
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.TWILIO_TIMEOUT_SECONDS = 1.0
    try:
        yield fake
    finally:
        fake.stop()
        forget_transports()  # the twilio transport's connection pool pointed at the stopped server


@pytest.fixture
def live_server_port(committed_db, settings):
    """A server thread on the test database; the public port is its port, so signed URLs match."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    settings.DBR_PUBLIC_PORT = server.port
    yield server.port
    server.terminate()


@pytest.fixture
def celery_worker_thread(live_server_port, settings):
    """A real Celery worker consuming the test queue from Redis, in a thread of this process.

    In-process, so it knows every task this process has imported (campaigns.transports.simulator
    included) without relying on autodiscovery. Stopped before the server it calls.
    """
    import redis
    from celery.contrib.testing.worker import start_worker

    from dbr.celery import app

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=15, loglevel="WARNING"):
        yield
