"""Shared fixtures: two clients created once per session, owner / teammate / outsider users.

`TenantTestCase` would rebuild a schema per class; instead the clients `alpha` and `beta`
are provisioned once (committed) and each test's data is rolled back (`db`) or wiped
(`committed_db`, for tests where a real worker must see the rows).
"""

from collections.abc import Iterator

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from campaigns.transports import forget_transports, transport_for
from campaigns.transports.locmem import LocmemTransport
from clients.models import Client, User
from clients.services import client_create, public_tenant_ensure
from tests.utils import wipe_client_data

CLIENTS = {"alpha": "Alpha Solar Ltd", "beta": "Beta Energy Ltd"}


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """Always the test database, also for sessions whose tests only use `committed_db`.

    pytest-django sets databases up only for tests marked or using `db`; a session of
    committed-data tests would otherwise run against the development database.
    """
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set())
    yield
    with django_db_blocker.unblock():
        # Server threads of browser tests may still hold a connection; end them before the drop.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        teardown_databases(config, verbosity=0)


@pytest.fixture(scope="session")
def tenants(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        public_tenant_ensure()
        made = {}
        for slug, name in CLIENTS.items():
            made[slug] = Client.objects.filter(slug=slug).first() or client_create(name=name, slug=slug)
        yield made


@pytest.fixture(autouse=True)
def sms_outbox() -> Iterator[LocmemTransport]:
    """The locmem SMS backend (the tests' default): what was sent, and `fail_next(...)`; fresh for each test."""
    forget_transports()
    yield transport_for("locmem")
    forget_transports()


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture
def alpha(tenants, db) -> Client:
    """Client A; the connection is in its schema for the test."""
    connection.set_tenant(tenants["alpha"])
    return tenants["alpha"]


@pytest.fixture
def beta(tenants, db) -> Client:
    return tenants["beta"]


@pytest.fixture
def committed_db(tenants, django_db_blocker):
    """Database access without a wrapping transaction: data is committed, then wiped."""
    with django_db_blocker.unblock():
        yield
        connection.set_schema_to_public()
        for client in tenants.values():
            wipe_client_data(client.schema_name)
        # Raw delete: Django's cascade collector cannot follow tenant rows pointing at users.
        with connection.cursor() as cursor:
            for table in (
                "notifications",
                "api_tokens",
                "api_idempotency_keys",
                "users_groups",
                "users_user_permissions",
                "django_admin_log",
                "users",
                "sending_numbers",
            ):
                cursor.execute(f"DELETE FROM public.{table}")


def _user(client: Client | None, email: str, role: str, **flags) -> User:
    with schema_context("public"):
        return User.objects.create_user(email, "correct horse battery", client=client, role=role, **flags)


@pytest.fixture
def owner(alpha) -> User:
    return _user(alpha, "owner@alpha.example", User.Role.COMPANY_OWNER)


@pytest.fixture
def teammate(alpha) -> User:
    return _user(alpha, "rep@alpha.example", User.Role.SALES_REP)


@pytest.fixture
def outsider(beta) -> User:
    return _user(beta, "owner@beta.example", User.Role.COMPANY_OWNER)


@pytest.fixture
def start_celery_worker(committed_db, settings):
    """Starts real Celery workers on the test database and queue (extra env allowed); stops them all."""
    import os
    import subprocess
    import sys
    from urllib.parse import quote

    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")  # a unix socket path (embedded PostgreSQL) is a host too
    workers = []

    def start(**extra_env: str) -> subprocess.Popen:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dbr.settings_test",
            "DATABASE_URL": f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}",
            "DBR_TEST_REDIS_URL": settings.REDIS_URL,
            **extra_env,
        }
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dbr",
                "worker",
                "--pool",
                "solo",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "--without-gossip",
                "--without-mingle",
                "-l",
                "info",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
        try:
            output, _ = worker.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        print(output)  # shown by pytest when the test failed


@pytest.fixture
def celery_worker_process(start_celery_worker):
    """One real Celery worker on the test database and queue; stopped at teardown."""
    return start_celery_worker()


@pytest.fixture
def make_user(tenants, db):
    """Creates a user of a client (or staff with client=None) with the standard test password."""

    def make(client: Client | None, email: str, role: str = User.Role.SALES_REP, **flags) -> User:
        return _user(client, email, role, **flags)

    return make


PASSWORD = "correct horse battery"
