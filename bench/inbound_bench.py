"""bench/inbound: the SMS webhook's requests/s and latency beside a bare view, and how soon a STOP holds.

    bench/inbound [--quick] [--keep] [--workers N] [--worker-class sync|gthread]

On its own database (dbr_bench_inbound), Redis db 13 (the broker the webhook publishes to; flushed at the start
and the end) and gunicorn started here serving the real app, with bench/inbound_settings.py adding a bare view
on the same server. Writes bench/results/inbound.md.
"""

import argparse
import asyncio
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from time import perf_counter
from urllib.parse import urlencode, urlsplit

import redis

from bench import database
from bench.log import log
from bench.report import Result, publish, table

INBOUND_DB = "dbr_bench_inbound"
REDIS_URL = "redis://127.0.0.1:6379/13"  # the webhook's broker; flushed at the start and the end
QUEUE = "dbr_bench_inbound"  # no worker consumes it: the bench times the request, not the processing
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "inbound.md"
REPO = Path(__file__).resolve().parent.parent
ACCOUNT_SID, AUTH_TOKEN = "AC" + "c" * 32, "bench-inbound-auth-token"
SLUG, SENDER = "benchin", "+447400999001"
WEBHOOK_PATH, BARE_PATH = "/webhooks/twilio/sms/", "/bench/bare/"

LEADS = 10_000
CONNECTIONS = 16
GUNICORN_WORKERS = 2  # the default; --workers
REQUESTS, QUICK_REQUESTS = 2_000, 1_000  # per view and round
ROUNDS, QUICK_ROUNDS = 3, 1
ROUND_SECONDS = 30.0  # a round also ends here, whatever it has sent
WARM_UP = 200
STOPS, QUICK_STOPS = 40, 10
FLOOD = 30_000  # posts ready for the load behind the STOPs (it stops when they are done)
GOAL_RATIO, GOAL_P95, GOAL_STOP = 0.5, 0.050, 1.0
REPLIES = ("Yes please", "How much for a 3 bed semi?", "not now maybe in spring", "who is this?", "call me after 5")


def bench_env(port: int) -> dict[str, str]:
    """The same settings for this process (signing) and the server (checking)."""
    return {
        "REDIS_URL": REDIS_URL,
        "CELERY_QUEUE": QUEUE,
        "DBR_SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "DBR_PUBLIC_PORT": str(port),
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------------------
# The server


@dataclass
class Server:
    process: subprocess.Popen
    origin: str
    description: str


def server_start(port: int, workers: int, worker_class: str, threads: int, log_path: Path) -> Server:
    """gunicorn on loopback in its own session (stopped as a group), the real app plus the bare view."""
    command = [
        sys.executable, "-m", "gunicorn", "dbr.wsgi:application", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--worker-class", worker_class, "--backlog", "2048",
        "--error-logfile", str(log_path),
    ]  # fmt: skip
    if worker_class == "gthread":
        command += ["--threads", str(threads)]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.inbound_settings"}
    process = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)
    server = Server(process, f"http://127.0.0.1:{port}", f"gunicorn {workers} workers, {worker_class}")
    if worker_class == "gthread":
        server.description += f" with {threads} threads each"
    _wait_until_serving(server)
    return server


def _wait_until_serving(server: Server) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode} at start-up")
        try:
            answer = requests.post(server.origin + BARE_PATH, headers={"Host": f"{SLUG}.localhost"}, timeout=10)
            if answer.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60 s")


def server_stop(server: Server) -> None:
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------------------------------------------
# Requests and the load generator


@dataclass
class Post:
    path: str
    body: bytes
    headers: dict[str, str]


def signed_text(client, *, phone: str, body: str, path: str = WEBHOOK_PATH) -> Post:
    """A text as Twilio posts it: a fresh MessageSid, signed for the webhook's public URL."""
    from campaigns.twilio_signature import twilio_sign
    from clients.access import client_url

    params = {
        "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": phone, "To": SENDER,
        "Body": body, "NumMedia": "0",
    }  # fmt: skip
    url = client_url(client, WEBHOOK_PATH)  # the domain is cached on the client
    headers = {
        "Host": urlsplit(url).hostname,
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_sign(url, params),
    }
    return Post(path, urlencode(params).encode(), headers)


def posts(client, path: str, count: int, phones: list[str]) -> list[Post]:
    return [
        signed_text(client, phone=phones[n % len(phones)], body=REPLIES[n % len(REPLIES)], path=path)
        for n in range(count)
    ]


@dataclass
class LoadRun:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)


def load(origin: str, items: list[Post], *, seconds: float, stop: threading.Event | None = None) -> LoadRun:
    """Posts `items` over CONNECTIONS concurrent connections until they run out, `seconds` pass or `stop` is set."""
    return asyncio.run(_load(origin, items, seconds, stop or threading.Event()))


async def _load(origin: str, items: list[Post], seconds: float, stop: threading.Event) -> LoadRun:
    import aiohttp

    pending = iter(items)
    run = LoadRun(0.0)
    deadline = perf_counter() + seconds

    async def connection(session) -> None:
        while perf_counter() < deadline and not stop.is_set() and (item := next(pending, None)):
            started = perf_counter()
            async with session.post(origin + item.path, data=item.body, headers=item.headers) as answer:
                await answer.read()
            run.latencies.append(perf_counter() - started)
            run.statuses[answer.status] = run.statuses.get(answer.status, 0) + 1

    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        started = perf_counter()
        await asyncio.gather(*(connection(session) for _ in range(CONNECTIONS)))
        run.seconds = perf_counter() - started
    return run


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


# ---------------------------------------------------------------------------------------------------
# (a) Throughput and latency: the webhook beside the bare view


@dataclass
class Throughput:
    bare: list[LoadRun]
    webhook: list[LoadRun]
    stored: int  # InboundSms rows written by the timed webhook rounds


def bench_throughput(server: Server, client, phones: list[str], rounds: int, count: int) -> Throughput:
    from campaigns.models import InboundSms

    log(f"throughput: warm-up, then {rounds} round(s) of {count:,} posts per view at {CONNECTIONS} connections")
    for path in (BARE_PATH, WEBHOOK_PATH):
        load(server.origin, posts(client, path, WARM_UP, phones), seconds=ROUND_SECONDS)
    before = InboundSms.objects.count()
    bare, webhook = [], []
    for n in range(rounds):
        order = [(BARE_PATH, bare), (WEBHOOK_PATH, webhook)]
        for path, runs in order if n % 2 == 0 else reversed(order):  # alternating, so drift hits both alike
            run = load(server.origin, posts(client, path, count, phones), seconds=ROUND_SECONDS)
            runs.append(run)
            log(f"  {path}: {run.rate:,.0f} req/s, p50 {percentile(run.latencies, 0.5) * 1000:.1f} ms")
    return Throughput(bare, webhook, InboundSms.objects.count() - before)


def _latency_notes(runs: list[LoadRun]) -> tuple[list[float], str]:
    latencies = [value for run in runs for value in run.latencies]
    rates = [run.rate for run in runs]
    statuses = {}
    for run in runs:
        for status, n in run.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    text = (
        f"{median(rates):,.0f} req/s (rounds: {', '.join(f'{rate:,.0f}' for rate in rates)}); "
        f"p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms; answers "
        + ", ".join(f"{status}: {n:,}" for status, n in sorted(statuses.items()))
    )
    return latencies, text


def throughput_results(result: Throughput) -> list[Result]:
    bare_latencies, bare_notes = _latency_notes(result.bare)
    hook_latencies, hook_notes = _latency_notes(result.webhook)
    ratio = median(run.rate for run in result.webhook) / median(run.rate for run in result.bare)
    p95 = percentile(hook_latencies, 0.95)
    answered = sum(run.ok for run in result.webhook)
    return [
        Result(
            f"bare view POST {BARE_PATH}, {CONNECTIONS} connections", len(bare_latencies), bare_latencies, bare_notes
        ),
        Result(
            f"webhook POST {WEBHOOK_PATH}, {CONNECTIONS} connections",
            len(hook_latencies),
            hook_latencies,
            f"{hook_notes}; {ratio:.2f}× the bare view's req/s (goal ≥ {GOAL_RATIO}: "
            f"{'PASS' if ratio >= GOAL_RATIO else 'FAIL'}); p95 goal < {GOAL_P95 * 1000:.0f} ms: "
            f"{'PASS' if p95 < GOAL_P95 else 'FAIL'}; rows stored {result.stored:,} for {answered:,} answered 200 "
            f"({'OK' if result.stored == answered else 'MISMATCH'})",
        ),
    ]


# ---------------------------------------------------------------------------------------------------
# (b) STOP: from the webhook's arrival to the suppression being visible to the sender


@dataclass
class StopProbe:
    visible: float  # seconds from sending the request to the sender's check seeing the number suppressed
    answered: float  # seconds from sending the request to its answer


SENDER_SEES = """
    SELECT EXISTS (SELECT 1 FROM suppressions WHERE phone_number = %(phone)s)
       AND NOT EXISTS (SELECT 1 FROM leads WHERE phone_number = %(phone)s AND contact_status <> 'REMOVED')"""


def stop_probe(server: Server, client, phone: str) -> StopProbe:
    """Another connection polls what the send path checks (the suppression list, the lead REMOVED) while the
    STOP is posted; both clocks start when the request is sent."""
    import psycopg
    import requests

    post = signed_text(client, phone=phone, body="STOP")
    seen: list[float] = []
    started = threading.Event()
    start_at: list[float] = []

    def poll() -> None:
        with psycopg.connect(database.server_url(INBOUND_DB), autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{client.schema_name}"')
            started.set()
            deadline = perf_counter() + 10
            while perf_counter() < deadline:
                if conn.execute(SENDER_SEES, {"phone": phone}).fetchone()[0]:
                    seen.append(perf_counter())
                    return
                time.sleep(0.002)

    poller = threading.Thread(target=poll)
    poller.start()
    started.wait(10)
    start_at.append(perf_counter())
    answer = requests.post(server.origin + post.path, data=post.body, headers=post.headers, timeout=30)
    answered = perf_counter() - start_at[0]
    poller.join()
    if answer.status_code != 200 or not seen:
        raise RuntimeError(f"STOP from {phone}: answer {answer.status_code}, suppression seen: {bool(seen)}")
    return StopProbe(seen[0] - start_at[0], answered)


def bench_stop(server: Server, client, phones: list[str], count: int, under_load: bool) -> list[StopProbe]:
    """`count` STOPs one after another, each from its own lead; optionally while the webhook is under load."""
    stop = threading.Event()
    background = None
    if under_load:
        flood = posts(client, WEBHOOK_PATH, FLOOD, phones[: len(phones) // 2])
        background = threading.Thread(target=load, args=(server.origin, flood), kwargs={"seconds": 300, "stop": stop})
        background.start()
        time.sleep(1)  # the load is running
    try:
        probes = []
        for phone in phones[-count:]:
            probes.append(stop_probe(server, client, phone))
            time.sleep(0.05)
    finally:
        stop.set()
        if background:
            background.join()
    return probes


def stop_results(idle: list[StopProbe], loaded: list[StopProbe]) -> list[Result]:
    results = []
    for label, probes in (("idle", idle), (f"under webhook load at {CONNECTIONS} connections", loaded)):
        visible = [probe.visible for probe in probes]
        answered = [probe.answered for probe in probes]
        worst = max(visible)
        results.append(
            Result(
                f"STOP visible to the sender, {label}",
                len(probes),
                visible,
                f"p95 {percentile(visible, 0.95) * 1000:.1f} ms, worst {worst * 1000:.1f} ms (goal < {GOAL_STOP:.0f} "
                f"s: {'PASS' if worst < GOAL_STOP else 'FAIL'}); the 200 came back after a median "
                f"{median(answered) * 1000:.1f} ms; polled every ~2 ms from another connection",
            )
        )
    return results


# ---------------------------------------------------------------------------------------------------


def client_with_leads():
    """One client whose dataset sends from SENDER, with LEADS leads (COPYed as bench/cadence does)."""
    from django.utils import timezone

    from bench.cadence_bench import campaign_begin, campaign_client, populate

    now = timezone.now()
    client, dataset = campaign_client(SLUG, zone="Europe/London", sender=SENDER, per_minute=None, at=now)
    populate(dataset, LEADS, 1, now)
    campaign_begin(dataset, now)
    phones = [f"+4474{i:08d}" for i in range(LEADS)]  # as populate writes them
    return client, phones


def header(server: Server, pg_version: str, load_at_start: float, quick: bool) -> str:
    from bench.main import git_revision

    return (
        f"# DBR inbound benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC{' (--quick)' if quick else ''}\n\n"
        f"git {git_revision()}; PostgreSQL {pg_version}; Python {platform.python_version()}; {os.cpu_count()} CPUs; "
        f"database {INBOUND_DB} (recreated for the run), {LEADS:,} leads; broker {REDIS_URL} (no worker: the "
        f"request is timed, not the processing); {server.description} on loopback; load generator: one asyncio "
        f"process (aiohttp) on the same machine, {CONNECTIONS} connections, fresh signed MessageSids; 1-min load "
        f"average {load_at_start:.1f} at start, {os.getloadavg()[0]:.1f} at end\n"
    )


def classify_note() -> Result:
    return Result(
        "classify_replies throughput on 100k replies", 100_000, [], "not rerun here: see bench/classify "
        "(bench/results/classify.md)"
    )  # fmt: skip


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/inbound", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (~2 minutes): fewer posts and STOPs")
    parser.add_argument("--keep", action="store_true", help=f"keep the {INBOUND_DB} database afterwards")
    parser.add_argument("--workers", type=int, default=GUNICORN_WORKERS, help="gunicorn's worker processes")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync", help="gunicorn's workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker with gthread")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    load_at_start = os.getloadavg()[0]
    port = free_port()
    os.environ.update(bench_env(port))
    workdir = Path(tempfile.mkdtemp(prefix="dbr-bench-inbound-"))
    server = None
    try:
        log(f"recreating database {INBOUND_DB}")
        database.django_setup(database.recreate(INBOUND_DB))
        redis.Redis.from_url(REDIS_URL).flushdb()
        client, phones = client_with_leads()
        server = server_start(port, args.workers, args.worker_class, args.threads, workdir / "gunicorn.log")
        log(f"{server.description} at {server.origin}")
        rounds, count = (QUICK_ROUNDS, QUICK_REQUESTS) if args.quick else (ROUNDS, REQUESTS)
        results = throughput_results(bench_throughput(server, client, phones[: LEADS // 2], rounds, count))
        stops = QUICK_STOPS if args.quick else STOPS
        log(f"STOP: {stops} idle, then {stops} under load")
        idle = bench_stop(server, client, phones[LEADS - stops :], stops, under_load=False)
        loaded = bench_stop(server, client, phones[: LEADS - stops], stops, under_load=True)
        results += [*stop_results(idle, loaded), classify_note()]
        text = header(server, database.server_version(), load_at_start, args.quick) + "\n" + table(results) + "\n"
        publish(text, RESULTS_FILE)
    finally:
        if server:
            server_stop(server)
        from django.db import connections

        connections.close_all()
        redis.Redis.from_url(REDIS_URL).flushdb()  # the texts queued for processing
        if args.keep:
            log(f"kept database {INBOUND_DB}; gunicorn's log in {workdir}")
        else:
            database.drop(INBOUND_DB)
            shutil.rmtree(workdir, ignore_errors=True)
            log(f"dropped database {INBOUND_DB}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
