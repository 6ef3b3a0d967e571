"""`manage.py check` reports unusable file storage and a malformed base domain at start-up."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from clients import checks

BASE_DIR = Path(__file__).resolve().parents[2]


def _ours() -> list:
    return [message for message in run_checks() if message.id.startswith("clients.")]


def test_it_passes_the_test_settings():
    assert _ours() == []


def test_it_passes_the_demo_settings():
    # The settings scripts/start runs with: dbr.settings in development mode and the simulator.
    env = {
        "DJANGO_SETTINGS_MODULE": "dbr.settings",
        "DEBUG": "1",
        "DBR_SMS_BACKEND": "simulator",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


@override_settings(DBR_S3_BUCKET="dbr-files")
def test_it_reports_a_bucket_without_the_s3_packages(monkeypatch):
    monkeypatch.setattr(checks, "find_spec", lambda name: None if name == "storages" else object())

    [error] = _ours()

    assert error.id == "clients.E001" and "django-storages is not installed" in error.msg
    assert "DBR_S3_BUCKET" in error.hint


@override_settings(DBR_S3_BUCKET="dbr-files")
def test_it_passes_a_bucket_with_the_s3_packages():
    assert _ours() == []


def test_it_passes_a_media_folder_it_will_create(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path / "not" / "yet"):
        assert _ours() == []


def test_it_reports_a_media_folder_it_cannot_write(tmp_path):
    # A regular file where a folder should be: unwritable even for root.
    (tmp_path / "a-file").write_text("")

    with override_settings(MEDIA_ROOT=tmp_path / "a-file" / "media"):
        [error] = _ours()

    assert error.id == "clients.E002" and "a-file" in error.msg and "DBR_MEDIA_ROOT" in error.hint


@pytest.mark.parametrize(
    ("domain", "check_id"),
    [
        ("", "clients.E003"),
        ("https://dbr.example.com", "clients.E004"),
        ("dbr.example.com:8000", "clients.E005"),
        ("dbr.example.com/app", "clients.E006"),
        ("dbr_example.com", "clients.E007"),
        ("DBR.example.com", "clients.E007"),
        ("-dbr.example.com", "clients.E007"),
        ("dbr..example.com", "clients.E007"),
        ("dbr.example.com.", "clients.E007"),
        ("a" * 64 + ".example.com", "clients.E007"),
    ],
)
def test_it_reports_a_base_domain_that_is_not_a_bare_host_name(domain, check_id):
    with override_settings(DBR_BASE_DOMAIN=domain):
        [error] = _ours()

    assert error.id == check_id and repr(domain) in error.msg and "bare host name" in error.hint


@pytest.mark.parametrize("domain", ["localhost", "dbr.example.com", "sms-dbr.example.co.uk", "app1.example"])
def test_it_passes_a_bare_host_name(domain):
    with override_settings(DBR_BASE_DOMAIN=domain):
        assert _ours() == []
