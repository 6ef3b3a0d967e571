"""The launcher's command line: `up`, `services` and `stop` (see the package's docstring)."""

import argparse
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from devtools import launcher
from devtools.demo.greenstar import OWNER_EMAIL, OWNER_PASSWORD, SLUG, STAFF_EMAIL, STAFF_PASSWORD
from devtools.launcher import BASE_DIR, log
from devtools.launcher.embedded import stop_embedded
from devtools.launcher.polling import wait_until
from devtools.launcher.processes import (
    child_commands,
    child_environment,
    first_dead,
    prepare_database,
    seed_demo,
    start_children,
    stop_children,
    supervise,
    web_answers,
)
from devtools.launcher.services import POSTGRES, REDIS, Service, ensure_database, services_resolve

WEB_START_TIMEOUT = 60.0


def print_banner(port: int, *, demo: bool, sources: dict[str, str]) -> None:
    lines = ["", "=" * 72, "DBR is running (SMS backend: simulator; fiction numbers allowed)"]
    if demo:
        lines += [
            f"  Demo client:     http://{SLUG}.localhost:{port}/",
            f"  Log in as:       {OWNER_EMAIL} / {OWNER_PASSWORD}",
            f"  Staff login:     {STAFF_EMAIL} / {STAFF_PASSWORD}  (platform admin, below)",
        ]
    lines += [
        f"  Platform admin:  http://localhost:{port}/admin/",
        f"  Health:          http://localhost:{port}/healthz",
        f"  PostgreSQL: {sources['postgres']}, Redis: {sources['redis']}",
        "Press Ctrl-C to stop.",
        "=" * 72,
        "",
    ]
    print("\n".join(lines), flush=True)


def cmd_up(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops like Ctrl-C
    # A shell starts background jobs with SIGINT ignored, and Python then leaves it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    started: list[str] = []
    system_started: list[Service] = []  # installed servers this run started: stopped at the end too
    children: dict[str, subprocess.Popen] = {}
    try:
        found = services_resolve(args.var_dir, embedded=args.embedded, started=started)
        system_started += [service for service in (POSTGRES, REDIS) if found[service.name][1] == "started"]
        (database_url, db_source), (redis_url, redis_source) = found["postgres"], found["redis"]
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
        stop_embedded(args.var_dir / "embedded", started)
        for service in system_started:
            service.stop_system()


def cmd_services(args: argparse.Namespace) -> int:
    """Prints `export` lines for a shell to eval; what this call embedded-started stays running."""
    started: list[str] = []
    found = services_resolve(args.var_dir, embedded=args.embedded, started=started)
    (database_url, db_source), (redis_url, redis_source) = found["postgres"], found["redis"]
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
    parser = argparse.ArgumentParser(prog="python -m devtools.launcher", description=launcher.__doc__.splitlines()[0])
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
