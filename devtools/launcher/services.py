"""Finding PostgreSQL and Redis: the environment, a local server, the installed one, or an embedded one."""

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devtools.launcher import log
from devtools.launcher.embedded import start_embedded_postgres, start_embedded_redis
from devtools.launcher.polling import SERVICE_START_TIMEOUT, STOP_TIMEOUT, process_alive, read_pid, wait_until
from devtools.launcher.probes import maintenance_conninfo, postgres_answers, redis_answers

REDIS_DATA_DIR, REDIS_LOG_DIR = Path("/var/lib/redis"), Path("/var/log/redis")
PIDFILE = "dbr-launcher.pid"  # in the data folder: which redis-server the launcher started, to stop it


def system_redis_command(*, port: int = 6379, data_dir: Path = REDIS_DATA_DIR, log_dir: Path = REDIS_LOG_DIR) -> list:
    return [
        "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", str(port),
        "--save", "", "--appendonly", "no", "--dir", str(data_dir), "--logfile", str(log_dir / "ci.log"),
        "--pidfile", str(data_dir / PIDFILE),
    ]  # fmt: skip


def _installed_postgres_version() -> str | None:
    clusters = Path("/etc/postgresql")
    if not shutil.which("pg_ctlcluster") or not clusters.is_dir():
        return None
    versions = sorted((path.name for path in clusters.iterdir()), key=lambda version: float(version))
    return versions[-1] if versions else None


def start_system_postgres() -> bool:
    version = _installed_postgres_version()
    if version is None:
        return False
    log(f"starting the installed PostgreSQL {version}")
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
    return subprocess.run(command, stdout=sys.stderr, check=False).returncode == 0


def stop_system_postgres() -> None:
    version = _installed_postgres_version()
    if version:
        log(f"stopping the installed PostgreSQL {version} (started by the launcher)")
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "stop"]
        subprocess.run(command, stdout=sys.stderr, check=False)


def start_system_redis(*, port: int = 6379, data_dir: Path = REDIS_DATA_DIR, log_dir: Path = REDIS_LOG_DIR) -> bool:
    if not shutil.which("redis-server"):
        return False
    log("starting the installed Redis")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        log_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    command = system_redis_command(port=port, data_dir=data_dir, log_dir=log_dir)
    return subprocess.run(command, stdout=sys.stderr, check=False).returncode == 0


def stop_system_redis(*, data_dir: Path = REDIS_DATA_DIR) -> None:
    """Stops the redis-server `start_system_redis` daemonised (by its pidfile); any other is left alone."""
    pid = read_pid(data_dir / PIDFILE)
    if not process_alive(pid):
        return
    log("stopping the installed Redis (started by the launcher)")
    os.kill(pid, signal.SIGTERM)
    if not wait_until(lambda: not process_alive(pid), STOP_TIMEOUT, interval=0.1):
        os.kill(pid, signal.SIGKILL)


@dataclass(frozen=True)
class Service:
    """Where one service can come from, in the order they are tried."""

    name: str
    env_var: str
    local_url: str
    answers: Callable[[str], bool]
    start_system: Callable[[], bool]
    stop_system: Callable[[], None]
    start_embedded: Callable[[Path], tuple[str, bool]]


POSTGRES = Service(
    name="postgres",
    env_var="DATABASE_URL",
    local_url="postgres://postgres@127.0.0.1:5432/dbr",
    answers=postgres_answers,
    start_system=start_system_postgres,
    stop_system=stop_system_postgres,
    start_embedded=start_embedded_postgres,
)
REDIS = Service(
    name="redis",
    env_var="REDIS_URL",
    local_url="redis://127.0.0.1:6379/0",
    answers=redis_answers,
    start_system=start_system_redis,
    stop_system=stop_system_redis,
    start_embedded=start_embedded_redis,
)


def service_resolve(service: Service, embedded_dir: Path, *, embedded: bool, started: list[str]) -> tuple[str, str]:
    """The service's URL and where it came from: env, local, started or embedded.

    Appends the service's name to `started` when this call started its embedded server.
    """
    if not embedded:
        if os.environ.get(service.env_var):
            return os.environ[service.env_var], "env"
        if service.answers(service.local_url):
            return service.local_url, "local"
        if service.start_system() and wait_until(lambda: service.answers(service.local_url), SERVICE_START_TIMEOUT):
            return service.local_url, "started"
    url, started_now = service.start_embedded(embedded_dir)
    if started_now:
        started.append(service.name)
    return url, "embedded"


def services_resolve(var_dir: Path, *, embedded: bool, started: list[str]) -> dict[str, tuple[str, str]]:
    """PostgreSQL's and Redis's (URL, source), by service name."""
    embedded_dir = var_dir / "embedded"
    embedded_dir.mkdir(parents=True, exist_ok=True)
    return {
        service.name: service_resolve(service, embedded_dir, embedded=embedded, started=started)
        for service in (POSTGRES, REDIS)
    }


def ensure_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict

    name = conninfo_to_dict(database_url)["dbname"]
    with psycopg.connect(maintenance_conninfo(database_url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        log(f"creating the database {name}")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
