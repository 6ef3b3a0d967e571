"""Without chromium the browser tests skip with the reason when scripts/test could not install it."""

import pytest

from tests.e2e.conftest import chromium_path


def test_it_skips_with_the_reason_when_chromium_could_not_be_installed(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setenv("DBR_BROWSER_TESTS", "skip")

    with pytest.raises(pytest.skip.Exception, match="root or with sudo"):
        chromium_path()


def test_it_fails_when_chromium_is_missing_otherwise(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.delenv("DBR_BROWSER_TESTS", raising=False)

    with pytest.raises(pytest.fail.Exception):
        chromium_path()
