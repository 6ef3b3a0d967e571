"""`manage.py check` reports a misconfigured SMS backend before anything is sent."""

from django.core.checks import run_checks
from django.test import override_settings


def _ours() -> list:
    return [message for message in run_checks() if message.id.startswith("campaigns.")]


def test_it_passes_the_test_settings():
    assert _ours() == []


@override_settings(DBR_SMS_BACKEND="simulator", TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="")
def test_it_passes_the_simulator_without_credentials():
    assert _ours() == []


@override_settings(DBR_SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="token")
def test_it_passes_twilio_with_both_credentials():
    assert _ours() == []


@override_settings(DBR_SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="")
def test_it_reports_twilio_without_credentials():
    [error] = _ours()

    assert error.id == "campaigns.E002" and error.is_serious()
    assert "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set" in error.msg
    assert "simulator" in error.hint


@override_settings(DBR_SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID="AC" + "1" * 32, TWILIO_AUTH_TOKEN="")
def test_it_names_the_one_missing_credential():
    [error] = _ours()

    assert error.id == "campaigns.E002" and "TWILIO_AUTH_TOKEN is not set" in error.msg


@override_settings(DBR_SMS_BACKEND="twillio")
def test_it_reports_an_unknown_backend_with_the_known_ones():
    [error] = _ours()

    assert error.id == "campaigns.E001" and "'twillio'" in error.msg
    assert all(name in error.hint for name in ("twilio", "simulator", "locmem"))
