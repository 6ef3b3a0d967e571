"""The application's processes: manage.py steps, then web, worker and beat under supervision."""

import http.client
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from devtools.launcher import BASE_DIR, log
from devtools.launcher.polling import STOP_TIMEOUT
from devtools.launcher.services import ensure_database


def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    log("manage.py " + shlex.join(args))
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=check)


def prepare_database(database_url: str) -> None:
    ensure_database(database_url)
    manage("migrate_schemas", "--shared")
    manage("migrate_schemas", "--executor", "multiprocessing")
    # The public host (admin, /healthz) needs the public tenant and its domain, demo or not.
    manage("shell", "-c", "from clients.services import public_tenant_ensure; public_tenant_ensure()")
    if os.environ.get("DEBUG", "").lower() not in ("1", "true", "yes", "on"):
        manage("collectstatic", "--noinput", "-v", "0")  # DEBUG off: WhiteNoise serves the collected files


def seed_demo() -> bool:
    if not any(BASE_DIR.glob("*/management/commands/seed_demo.py")):
        log("warning: manage.py seed_demo does not exist yet, so there is no demo client")
        return False
    if manage("seed_demo", check=False).returncode:
        log("warning: seed_demo failed (see above); the platform runs without the demo client")
        return False
    return True


def child_environment(database_url: str, redis_url: str, port: int) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DBR_SMS_BACKEND="simulator",
        DBR_ALLOW_FICTION_NUMBERS="1",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dbr.settings")
    os.environ.setdefault("DEBUG", "1")  # the launcher runs the demo: development mode unless told otherwise
    os.environ.setdefault("DBR_PUBLIC_PORT", str(port))


def child_commands(port: int, var_dir: Path) -> dict[str, list[str]]:
    python = sys.executable
    schedule = str(var_dir / "celerybeat-schedule")
    return {
        "web": [python, "manage.py", "runserver", f"0.0.0.0:{port}", "--noreload"],
        "worker": [python, "-m", "celery", "-A", "dbr", "worker", "-l", "info", "-Q", "dbr", "--concurrency", "2"],
        "beat": [python, "-m", "celery", "-A", "dbr", "beat", "-l", "info", "--schedule", schedule],
    }


def start_children(commands: dict[str, list[str]], children: dict[str, subprocess.Popen]) -> None:
    for name, command in commands.items():
        log(f"starting {name}: {shlex.join(command)}")
        # Own session: Ctrl-C reaches only the launcher, which then stops children in order.
        children[name] = subprocess.Popen(command, cwd=BASE_DIR, stdin=subprocess.DEVNULL, start_new_session=True)


def stop_children(children: dict[str, subprocess.Popen]) -> None:
    for name, child in children.items():
        if child.poll() is None:
            log(f"stopping {name}")
            child.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for name, child in children.items():
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{name} did not stop in {STOP_TIMEOUT:.0f}s; killing it")
        # Also sweeps grandchildren, such as Celery's pool processes.
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()


def web_answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz", headers={"Host": "localhost"})
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def first_dead(children: dict[str, subprocess.Popen]) -> str | None:
    return next((name for name, child in children.items() if child.poll() is not None), None)


def supervise(children: dict[str, subprocess.Popen]) -> str:
    """Waits until a child exits and returns its name."""
    while (dead := first_dead(children)) is None:
        time.sleep(0.5)
    return dead
