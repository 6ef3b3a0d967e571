"""`@twilio_signed`: a Twilio webhook runs only for a request signed for our public URL."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from twilio.request_validator import RequestValidator

from campaigns.twilio_signature import twilio_sign, twilio_signed
from clients.access import client_url

TOKEN = "signature-test-token"
PATH = "/webhooks/twilio/anything/?message=1"
PARAMS = {"MessageSid": "SM" + "b" * 32, "Body": "Yes please"}


@pytest.fixture
def view():
    calls = []

    @twilio_signed
    def webhook(request):
        calls.append(request)
        return HttpResponse("ran")

    webhook.calls = calls
    return webhook


def _request(tenant, params: dict, signature: str | None, **extra):
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
    extra.setdefault("HTTP_HOST", tenant.get_primary_domain().domain)
    request = RequestFactory().post(PATH, params, **headers, **extra)
    request.tenant = tenant
    return request


def test_it_runs_the_view_for_a_request_signed_for_the_client_url(alpha, view, settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    signature = RequestValidator(TOKEN).compute_signature(client_url(alpha, PATH), PARAMS)

    response = view(_request(alpha, PARAMS, signature))

    assert response.status_code == 200 and len(view.calls) == 1


@pytest.mark.parametrize("signature", [None, "not-a-signature"])
def test_it_refuses_a_missing_or_wrong_signature(alpha, view, settings, signature):
    settings.TWILIO_AUTH_TOKEN = TOKEN

    response = view(_request(alpha, PARAMS, signature))

    assert response.status_code == 403 and view.calls == []


def test_it_refuses_params_changed_after_signing(alpha, view, settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    signature = RequestValidator(TOKEN).compute_signature(client_url(alpha, PATH), PARAMS)

    response = view(_request(alpha, {**PARAMS, "Body": "STOP"}, signature))

    assert response.status_code == 403 and view.calls == []


def test_it_checks_the_public_url_not_the_one_a_proxy_passed_on(alpha, view, settings):
    settings.TWILIO_AUTH_TOKEN, settings.DBR_PUBLIC_SCHEME, settings.DBR_PUBLIC_PORT = TOKEN, "https", None
    signature = RequestValidator(TOKEN).compute_signature(client_url(alpha, PATH), PARAMS)
    assert client_url(alpha, PATH).startswith("https://")

    # The proxy speaks plain HTTP to us, on another port.
    host = alpha.get_primary_domain().domain
    response = view(_request(alpha, PARAMS, signature, SERVER_PORT="8000", HTTP_HOST=f"{host}:8000"))

    assert response.status_code == 200


def test_it_accepts_what_the_simulator_signs_with_the_dev_token(alpha, view, settings):
    settings.DBR_SMS_BACKEND, settings.TWILIO_AUTH_TOKEN = "simulator", None

    response = view(_request(alpha, PARAMS, twilio_sign(client_url(alpha, PATH), PARAMS)))

    assert response.status_code == 200


def test_it_refuses_everything_with_the_twilio_backend_and_no_token(alpha, view, settings):
    settings.DBR_SMS_BACKEND, settings.TWILIO_AUTH_TOKEN = "twilio", None
    signature = RequestValidator("dbr-simulator-dev-token").compute_signature(client_url(alpha, PATH), PARAMS)

    response = view(_request(alpha, PARAMS, signature))

    assert response.status_code == 403
