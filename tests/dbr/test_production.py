"""Production defaults: DEBUG off unless asked, no start without a SECRET_KEY, static files served by the
web process (WhiteNoise, hashed names), `check --deploy` clean, exactly one beat."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]
# What docs/deploy.md tells a production deployment to set (with its own key and domain).
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "dbr.settings",
    "SECRET_KEY": "a-production-key-" + "x" * 50,
    "DBR_BASE_DOMAIN": "dbr.example.com",
    "DBR_PUBLIC_SCHEME": "https",
    "DBR_BEHIND_PROXY": "1",
    "DBR_SSL_REDIRECT": "1",
    "DBR_HSTS_SECONDS": "31536000",
    "DBR_HSTS_PRELOAD": "1",
}
DEVELOPMENT_ONLY = ("DEBUG", "SECRET_KEY", "DBR_PUBLIC_PORT", "DJANGO_SETTINGS_MODULE")


def _env(**extra: str) -> dict[str, str]:
    """This machine's environment without any development switch, on the test database, plus `extra`."""
    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    env = {name: value for name, value in os.environ.items() if name not in DEVELOPMENT_ONLY}
    env["DATABASE_URL"] = f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**env, **extra}


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )


SETUP = "import django; django.setup(); from django.conf import settings; "


def test_debug_is_off_unless_asked_for():
    env = _env(DJANGO_SETTINGS_MODULE="dbr.settings", SECRET_KEY="k" * 50)
    off = _python(SETUP + "print(settings.DEBUG, settings.DBR_PUBLIC_PORT)", env)
    on = _python(SETUP + "print(settings.DEBUG)", {**env, "DEBUG": "1"})

    assert off.stdout.split() == ["False", "None"], off.stderr  # and links carry no port unless it is set
    assert on.stdout.strip() == "True", on.stderr


def test_no_start_without_a_secret_key_when_debug_is_off():
    refused = _python(SETUP, _env(DJANGO_SETTINGS_MODULE="dbr.settings"))
    development = _python(SETUP + "print(settings.DEBUG)", _env(DJANGO_SETTINGS_MODULE="dbr.settings", DEBUG="1"))

    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr and "DEBUG=1" in refused.stderr
    assert development.returncode == 0 and development.stdout.strip() == "True", development.stderr


def test_check_deploy_is_clean_under_the_documented_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=_env(**PRODUCTION),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    # drf-spectacular's schema warnings (the API's own) are not deployment settings.
    ours = [line for line in output.splitlines() if re.match(r"\?: \((?!drf_spectacular)\w+\.[WE]\d+\)", line)]
    assert ours == [], output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, host: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@dataclass(frozen=True)
class Server:
    port: int
    static_root: Path  # where its collectstatic wrote


@pytest.fixture
def gunicorn(tenants, tmp_path):
    """gunicorn with DEBUG off after `collectstatic`, as docs/deploy.md runs it; stopped at teardown."""
    env = _env(**{**PRODUCTION, "DBR_SSL_REDIRECT": "0", "DBR_PUBLIC_SCHEME": "http", "DBR_BEHIND_PROXY": "0"})
    env["DBR_BASE_DOMAIN"] = "localhost"
    env["DBR_STATIC_ROOT"] = str(tmp_path / "static")
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert collected.returncode == 0, collected.stderr
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dbr.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
        yield Server(port, tmp_path / "static")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait(timeout=10)
        log.close()


def _stylesheets(html: bytes) -> list[str]:
    return re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html.decode())


@pytest.mark.slow
def test_gunicorn_with_debug_off_serves_a_page_its_css_and_the_admins_css(gunicorn):
    port = gunicorn.port
    status, _, page = _get(port, "/login/", "alpha.localhost")
    assert status == 200, page[:500]
    sheets = _stylesheets(page)
    ours = [href for href in sheets if "/css/dbr." in href]
    assert ours and re.search(r"/static/css/dbr\.[0-9a-f]{12}\.css$", ours[0]), sheets  # hashed name

    status, headers, css = _get(port, ours[0], "alpha.localhost")
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert b"{" in css and "max-age=315360000" in headers.get("Cache-Control", "")

    # The admin's pages sit behind the product's sign-in; their stylesheets by the names the pages use.
    manifest = json.loads((gunicorn.static_root / "staticfiles.json").read_text())["paths"]
    for name in ("admin/css/base.css", "admin/css/dashboard.css", "admin/css/forms.css"):
        status, headers, _ = _get(port, f"/static/{manifest[name]}", "localhost")
        assert status == 200 and headers["Content-Type"].startswith("text/css"), name
    status, _, _ = _get(port, "/static/admin/css/no-such.css", "localhost")
    assert status == 404


def _beat(env: dict[str, str], schedule: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "dbr", "beat", "-l", "info", "--schedule", str(schedule)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        output, _ = process.communicate(timeout=10)
    return output


def _beat_lock_held() -> bool:
    """Whether some process holds the beat's advisory lock (looked at, never taken)."""
    import psycopg

    from dbr.celery import BEAT_LOCK_KEY

    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"] or None, host=db["HOST"] or None, port=db["PORT"] or None, autocommit=True
    ) as lookup:
        return lookup.execute(
            "SELECT exists(SELECT FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted)",
            [BEAT_LOCK_KEY],
        ).fetchone()[0]


@pytest.mark.slow
def test_a_second_beat_refuses_to_run(tenants, tmp_path, settings):
    env = _env(
        DJANGO_SETTINGS_MODULE="dbr.settings_test",
        DBR_TEST_REDIS_URL=settings.REDIS_URL,
        CELERY_QUEUE="dbr-test-beat",
    )
    first = _beat(env, tmp_path / "first-schedule")
    second = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and first.poll() is None and not _beat_lock_held():
            time.sleep(0.3)
        assert first.poll() is None and _beat_lock_held(), _stop(first)

        second = _beat(env, tmp_path / "second-schedule")
        output = second.communicate(timeout=60)[0]
        assert second.returncode != 0
        assert "Another Celery beat is already running" in output and "Exactly one beat" in output
        assert first.poll() is None  # the first one keeps its place
    finally:
        _stop(first)
        if second is not None and second.poll() is None:
            _stop(second)
