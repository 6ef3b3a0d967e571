"""The API driven from its own OpenAPI schema (schemathesis): no 5xx, and every response matches the schema.

Bounded: a few generated requests per operation, through Django's WSGI app in the test's own transaction,
as the owner of client alpha with the world of tests/api/conftest.py.
"""

import json

import pytest
import redis
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import token_for

RAW = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def loaded_schema(world, owner, settings):
    settings.DBR_API_RATE = "100000/m"
    loaded = schemathesis.openapi.from_dict(RAW)
    loaded.app = get_wsgi_application()
    loaded.base_url = "http://alpha.localhost"
    # As Django's test client does: requests share the test's connection (and its transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield loaded, token_for(owner)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    redis.Redis.from_url(django_settings.REDIS_URL).delete(django_settings.CELERY_TASK_DEFAULT_QUEUE)


@pytest.mark.slow
@pytest.mark.django_db
def test_the_api_answers_as_its_schema_says(loaded_schema):
    loaded, key = loaded_schema
    headers = {"Authorization": f"Token {key}", "Host": "alpha.localhost"}
    operations = [result.ok() for result in loaded.get_all_operations()]
    assert len(operations) > 30
    statuses = []
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy())
        def run(case):
            statuses.append(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

        try:
            run()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc
    # The run reached the API's work, not only its refusals.
    assert sum(200 <= code < 300 for code in statuses) > 50 and not [code for code in statuses if code >= 500]
