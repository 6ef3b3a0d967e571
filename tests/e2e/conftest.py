"""A real browser (Debian's chromium via Playwright) against a live server on the test database."""

import os
import shutil

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test.testcases import LiveServerThread


@pytest.fixture
def live_url(committed_db):
    """Base URL template of a server thread; committed_db keeps the session's clients."""
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield lambda slug: f"http://{slug}.localhost:{server.port}"
    server.terminate()


def chromium_path() -> str:
    """Debian's chromium; a skip when scripts/test could not install it (no root, no sudo), else a failure."""
    chromium = shutil.which("chromium")
    if chromium is None:
        message = "Debian's chromium is not installed: scripts/test installs it as root or with sudo (apt chromium)"
        if os.environ.get("DBR_BROWSER_TESTS") == "skip":
            pytest.skip(message)
        pytest.fail(message)
    return chromium


@pytest.fixture
def page():
    chromium = chromium_path()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls in fixtures are safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        context = browser.new_context()
        yield context.new_page()
        context.close()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
