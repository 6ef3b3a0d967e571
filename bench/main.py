"""Runs every benchmark on a throwaway database and prints one table: `bench/run [--quick] [--keep]`."""

import argparse
import os
import platform
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from bench import database
from bench.log import log
from bench.report import Result, publish, table

RESULTS_FILE = Path(__file__).resolve().parent / "results" / "latest.md"
FULL_CLIENTS = 200
QUICK_CLIENTS = 20


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_CLIENTS} clients instead of {FULL_CLIENTS}")
    parser.add_argument("--keep", action="store_true", help=f"keep the {database.BENCH_DB} database afterwards")
    return parser.parse_args(argv)


def git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()

    dirty = " (+ uncommitted changes in the tree)" if git("status", "--porcelain") else ""
    return (git("rev-parse", "--short", "HEAD") or "unknown") + dirty


def header(clients: int, pg_version: str, load_at_start: float) -> str:
    """What the numbers depend on; a load average above the CPU count means something else competed."""
    return (
        f"# DBR benchmarks — {datetime.now():%Y-%m-%d %H:%M}\n\n"
        f"git {git_revision()}; PostgreSQL {pg_version}; Python {platform.python_version()}; "
        f"{os.cpu_count()} CPUs; {clients} clients; database {database.BENCH_DB} (recreated for the run); "
        f"1-min load average {load_at_start:.1f} at start, {os.getloadavg()[0]:.1f} at end\n"
    )


def run_all(clients: int) -> list[Result]:
    from bench import clients_bench, leads_bench

    first, results = clients_bench.run(clients)
    return results + leads_bench.run(first)


def report(results: list[Result], clients: int, pg_version: str, load_at_start: float) -> None:
    text = header(clients, pg_version, load_at_start) + "\n" + table(results) + "\n"
    publish(text, RESULTS_FILE)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    clients = QUICK_CLIENTS if args.quick else FULL_CLIENTS
    load_at_start = os.getloadavg()[0]
    log(f"recreating database {database.BENCH_DB}")
    database.django_setup(database.recreate())
    from django.db import connections

    try:
        pg_version = database.server_version()
        report(run_all(clients), clients, pg_version, load_at_start)
    finally:
        connections.close_all()
        if args.keep:
            log(f"kept database {database.BENCH_DB}")
        else:
            database.drop()
            log(f"dropped database {database.BENCH_DB}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
