"""bench/clients: what many clients on one PostgreSQL cost (docs/scaling.md).

    bench/clients [--clients 1000] [--quick] [--keep] [--skip-migration] [--skip-connections]

On its own database (dbr_bench_clients, recreated): one client made by `client_create`, then copied schema by
schema (pg_dump of that schema, its name replaced, psql; the same tables, constraints and seeds a creation makes)
up to --clients, each with its `clients` and domain row. Then it measures, with that many clients present:

- the beat's fan-out with nothing due: every per-client beat task run in this process, timed, its queries counted;
- client_create from the spare pool and without it (each probe client dropped again);
- the catalog: pg_class rows, schemas, database size;
- connections held under gunicorn (2 workers) and a Celery worker (2 processes) serving many clients;
- a new one-column migration across every client: `migrate_schemas --executor multiprocessing` in a child
  process, with a throwaway tenant app made in a temporary directory (bench/clients_settings.py).

Writes bench/results/clients.md. Redis db 7 by default (BENCH_CLIENTS_REDIS_URL).
"""

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from time import perf_counter

from bench import database
from bench.log import log
from bench.report import Result, publish, table

DB = "dbr_bench_clients"
REDIS_URL = os.environ.get("BENCH_CLIENTS_REDIS_URL", "redis://127.0.0.1:6379/7")
TEMPLATE = "benchtpl"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "clients.md"
REPO = Path(__file__).resolve().parent.parent
FULL, QUICK = 1000, 100
GOAL_FANOUT, GOAL_CREATE, GOAL_MIGRATION = 1.0, 1.0, 600.0
CLONES_PER_PSQL = 25
PROBES = 3


def slug(i: int) -> str:
    return f"c{i:04d}"


# ---------------------------------------------------------------------------------------------------
# Many clients, quickly


def clients_fill(target: int) -> float:
    """The template client by client_create, then copies of its schema; returns seconds per copy."""
    from django.db import connection

    from clients.models import Client, Domain
    from clients.services import client_create, client_domain_for

    client_create(name="Bench template", slug=TEMPLATE)
    connection.set_schema_to_public()
    url = database.server_url(DB)
    dump = subprocess.run(
        ["pg_dump", "--dbname", url, "--schema", TEMPLATE, "--no-owner", "--no-privileges"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    started = perf_counter()
    made = 1
    while made < target:
        batch = [slug(i) for i in range(made, min(target, made + CLONES_PER_PSQL))]
        script = "".join(dump.replace(TEMPLATE, name) for name in batch)
        subprocess.run(
            ["psql", "--dbname", url, "--quiet", "--single-transaction", "-v", "ON_ERROR_STOP=1"],
            input=script,
            capture_output=True,
            text=True,
            check=True,
        )
        clients = Client.objects.bulk_create(
            [Client(slug=name, schema_name=name, company_name=f"Bench {name}", schema_ready=True) for name in batch]
        )
        Domain.objects.bulk_create(
            [Domain(domain=client_domain_for(c.slug), tenant=c, is_primary=True) for c in clients]
        )
        made += len(batch)
        if made % 100 < CLONES_PER_PSQL or made == target:
            log(f"  {made}/{target} clients")
    return (perf_counter() - started) / max(1, target - 1)


# ---------------------------------------------------------------------------------------------------
# Beat's fan-out


class Queries:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def idle_pass(clients: int) -> list[Result]:
    """The beat that clears the flag of clients with nothing pending, with a clock past their windows."""
    from django.utils import timezone

    from clients.models import Client
    from clients.queue import ACTIVE_WINDOW, clients_idle_mark

    now = timezone.now()
    clients_idle_mark(at=now)  # first sighting: each client gets its window
    later = now + ACTIVE_WINDOW * 2
    started = perf_counter()
    cleared = clients_idle_mark(at=later)
    first = perf_counter() - started
    started = perf_counter()
    clients_idle_mark(at=later)
    again = perf_counter() - started
    busy = Client.objects.filter(work_pending=True).exclude(schema_name="public").count()
    return [
        Result(
            f"idle check over {clients:,} clients (mark_idle_clients, every 60 s)",
            2,
            [first, again],
            f"first pass: one pending-work statement per client, {cleared:,} cleared in {first:.2f} s; "
            f"then nothing left to check: {again:.3f} s; {busy} clients still flagged",
        )
    ]


def fanout(runs: int, state: str) -> list[Result]:
    from django.db import connection

    from campaigns.tasks import sweep_inbound_all, tick_all
    from leads.tasks import sweep_imports_all, webhooks_due_all
    from sophie.tasks import replies_due_all

    results = []
    for task, every in (
        (tick_all, "60 s"),
        (sweep_inbound_all, "60 s"),
        (replies_due_all, "30 s"),
        (webhooks_due_all, "30 s"),
        (sweep_imports_all, "300 s"),
    ):
        times, queued, queries = [], 0, Queries()
        for _ in range(runs):
            connection.set_schema_to_public()
            with connection.execute_wrapper(queries):
                started = perf_counter()
                queued = task()
                times.append(perf_counter() - started)
        per_run = queries.count // runs
        verdict = "OK" if max(times) < GOAL_FANOUT else "FAIL"
        results.append(
            Result(
                f"beat fan-out, nothing due, {state}: {task.name.split('.')[-1]} (every {every})",
                runs,
                times,
                f"{per_run:,} queries per run; {queued} tasks queued; goal < {GOAL_FANOUT:.0f} s: {verdict}",
            )
        )
    return results


# ---------------------------------------------------------------------------------------------------
# client_create with many clients present


def creates(clients: int) -> list[Result]:
    from django.db import connection

    from clients import spares
    from clients.models import Client
    from clients.services import client_create

    def timed(prefix: str) -> list[float]:
        times = []
        for i in range(PROBES):
            started = perf_counter()
            client = client_create(name=f"Probe {prefix}{i}", slug=f"{prefix}{i}")
            times.append(perf_counter() - started)
            connection.set_schema_to_public()
            Client.objects.get(pk=client.pk).delete(force_drop=True)
        return times

    started = perf_counter()
    spares.spares_refill(target=PROBES)
    refill = perf_counter() - started
    pooled = timed("pool")
    assert spares.spare_names() == [], "every probe should have taken a spare"
    plain = timed("plain")
    results = []
    for name, times, how in (("from the spare pool", pooled, "ALTER SCHEMA … RENAME + seeds"), ("no spare", plain, "")):
        verdict = "OK" if max(times) < GOAL_CREATE else "FAIL"
        notes = f"{how + '; ' if how else ''}each probe dropped again; goal < {GOAL_CREATE:.0f} s: {verdict}"
        results.append(Result(f"client_create, {clients:,} clients present, {name}", PROBES, times, notes))
    results.append(
        Result(f"spare pool refill: {PROBES} spares built", 1, [refill], "the beat task's work, off the request")
    )
    return results


# ---------------------------------------------------------------------------------------------------
# The catalog


def catalog(clients: int) -> list[Result]:
    from bench.leads_data import execute

    (rels,) = execute("SELECT count(*) FROM pg_class")[0]
    (mine,) = execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s",
        [TEMPLATE],
    )[0]
    (attrs,) = execute("SELECT count(*) FROM pg_attribute")[0]
    (size,) = execute("SELECT pg_database_size(current_database())")[0]
    (catalog_size,) = execute(
        "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'pg_catalog'"
    )[0]
    return [
        Result(
            f"catalog with {clients:,} clients",
            clients,
            [],
            f"pg_class {rels:,} rows ({mine} per client: tables, indexes, sequences, TOAST); pg_attribute "
            f"{attrs:,} rows; pg_catalog {catalog_size / 2**20:,.0f} MB; database {size / 2**20:,.0f} MB "
            f"({size / clients / 2**10:,.0f} kB per empty client)",
        )
    ]


# ---------------------------------------------------------------------------------------------------
# Connections under web + workers


def connections(clients: int) -> list[Result]:
    import requests

    from bench.inbound_bench import free_port
    from bench.leads_data import execute

    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dbr.settings", "REDIS_URL": REDIS_URL}
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "dbr.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=REPO,
        env=env,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dbr",
            "worker",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "-l",
            "ERROR",
        ],
        cwd=REPO,
        env=env,
        start_new_session=True,
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        served = 0
        deadline = time.monotonic() + 90
        hosts = [f"{slug(i)}.localhost" for i in range(1, min(clients, 200))]
        while time.monotonic() < deadline and served == 0:
            try:
                served = requests.get(f"http://127.0.0.1:{port}/login/", headers={"Host": hosts[0]}, timeout=10).ok
            except requests.RequestException:
                time.sleep(0.5)
        started = perf_counter()
        for host in hosts:
            requests.get(f"http://127.0.0.1:{port}/login/", headers={"Host": host}, timeout=30)
        seconds = perf_counter() - started
        from campaigns.tasks import sweep_inbound_all
        from sophie.tasks import replies_due_all

        for task in (sweep_inbound_all, replies_due_all, sweep_inbound_all, replies_due_all):
            task.apply_async(retry=False)
        time.sleep(15)  # the worker runs the fan-outs over every client
        rows = execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'idle') FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        total, idle = rows[0]
    finally:
        for process in (web, worker):
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                pass
    return [
        Result(
            "connections under gunicorn (2 workers) + a Celery worker (2 processes)",
            len(hosts),
            [seconds],
            f"{total} connections to the database ({idle} idle) after {len(hosts)} requests to {len(hosts)} "
            "different clients and 4 beat fan-outs over all of them: one per process, however many clients "
            "(a search_path per request, not a connection per client)",
        )
    ]


# ---------------------------------------------------------------------------------------------------
# A new migration across every client

PROBE_MIGRATION = """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("leads", "{previous}")]
    operations = [
        migrations.RunSQL(
            "ALTER TABLE leads ADD COLUMN bench_probe integer",
            "ALTER TABLE leads DROP COLUMN bench_probe",
        ),
    ]
"""


def migration(clients: int, workdir: Path) -> list[Result]:
    from django.db.migrations.loader import MigrationLoader

    previous = max(name for app, name in MigrationLoader(None).graph.leaf_nodes() if app == "leads")
    package = workdir / "dbr_bench_probe"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "__init__.py").write_text("")
    (package / "migrations" / "0001_leads_column.py").write_text(PROBE_MIGRATION.format(previous=previous))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.clients_settings",
        "BENCH_PROBE_APP": "dbr_bench_probe",
        "PYTHONPATH": f"{workdir}{os.pathsep}{REPO}",
    }
    command = [sys.executable, "manage.py", "migrate_schemas", "--executor", "multiprocessing", "-v", "0"]
    started = perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    seconds = perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"migrate_schemas failed: {done.stderr[-2000:]}")
    from bench.leads_data import execute

    (columns,) = execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'leads' AND column_name = 'bench_probe'"
    )[0]
    started = perf_counter()
    subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=True)
    noop = perf_counter() - started
    verdict = "OK" if seconds < GOAL_MIGRATION and columns >= clients else "FAIL"
    return [
        Result(
            f"migrate_schemas --executor multiprocessing, one new column, {clients:,} clients",
            clients,
            [seconds],
            f"{seconds / clients * 1000:,.0f} ms per client; the column is now in {columns:,} schemas; "
            f"goal < {GOAL_MIGRATION / 60:.0f} min: {verdict}",
        ),
        Result(
            f"migrate_schemas again, nothing to apply, {clients:,} clients",
            clients,
            [noop],
            f"{noop / clients * 1000:,.0f} ms per client: the fixed cost of visiting a schema",
        ),
    ]


# ---------------------------------------------------------------------------------------------------


def git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=False, cwd=REPO).stdout.strip()

    dirty = " (+ uncommitted changes in the tree)" if git("status", "--porcelain") else ""
    return (git("rev-parse", "--short", "HEAD") or "unknown") + dirty


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/clients", description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=FULL, help=f"clients present (default {FULL})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK} clients")
    parser.add_argument("--runs", type=int, default=3, help="runs of each fan-out")
    parser.add_argument("--skip-migration", action="store_true")
    parser.add_argument("--skip-connections", action="store_true")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB} database afterwards")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    clients = QUICK if args.quick else args.clients
    load_at_start = os.getloadavg()[0]
    os.environ["REDIS_URL"] = REDIS_URL
    log(f"recreating database {DB}")
    database.recreate(DB)
    workdir = Path(tempfile.mkdtemp(prefix="dbr-bench-clients-"))
    try:
        database.django_setup(database.server_url(DB))
        from django.conf import settings

        settings.DBR_SPARE_SCHEMAS = 0  # the bench fills the pool itself, when it measures it
        log(f"making {clients:,} clients")
        per_copy = clients_fill(clients)
        results = [Result(f"bench set-up: one client's schema copied ({clients - 1:,} times)", clients - 1, [per_copy])]
        log("beat fan-out, every client flagged busy")
        results += fanout(args.runs, "all flagged busy")
        log("idle check")
        results += idle_pass(clients)
        log("beat fan-out, idle clients")
        results += fanout(args.runs, "all idle")
        log("client_create")
        results += creates(clients)
        results += catalog(clients)
        if not args.skip_connections:
            log("connections under gunicorn + a Celery worker")
            results += connections(clients)
        if not args.skip_migration:
            log("a new migration across every client")
            results += migration(clients, workdir)
        pg_version = database.server_version()
    finally:
        from django.db import connections as django_connections

        django_connections.close_all()
        shutil.rmtree(workdir, ignore_errors=True)
        if not args.keep:
            database.drop(DB)
            log(f"dropped database {DB}")
    head = (
        f"# bench/clients — {datetime.now():%Y-%m-%d %H:%M}\n\n"
        f"git {git_revision()}; PostgreSQL {pg_version}; Python {platform.python_version()}; {os.cpu_count()} CPUs; "
        f"{clients:,} clients; database {DB} (recreated for the run); 1-min load average {load_at_start:.1f} at "
        f"start, {os.getloadavg()[0]:.1f} at end\n"
    )
    publish(head + "\n" + table(results) + "\n", RESULTS_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
