"""bench/cadence: the tick's cost against list size, send throughput through Celery workers, rate limits held.

    bench/cadence [--quick] [--keep] [--delay-ms 200] [--threads 8] [--concurrency 4] [--only send]

On its own database (dbr_bench_cadence), Redis db 9 (the bench's broker, flushed) and a fake Twilio server in
this process, reached through the real Twilio SDK. Writes bench/results/cadence.md.
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
import uuid
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from statistics import median
from time import perf_counter
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from bench import database
from bench.log import log
from bench.procs import Sampler, process_tree
from bench.report import Result, publish, table
from tests.fakes.twilio_server import FakeTwilio

CADENCE_DB = "dbr_bench_cadence"
REDIS_URL = "redis://127.0.0.1:6379/9"  # the bench's broker; flushed at the start and the end
QUEUE = "dbr_bench"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "cadence.md"
REPO = Path(__file__).resolve().parent.parent
ACCOUNT_SID, AUTH_TOKEN = "AC" + "b" * 32, "bench-auth-token"

DUE = 1_000  # leads due at the tick
TICK_SIZES, QUICK_TICK_SIZES = (10_000, 1_000_000), (10_000, 100_000)
TICK_RUNS, QUICK_TICK_RUNS = 3, 1
GOAL_TICK_RATIO = 1.3
SEND_MESSAGES, QUICK_SEND_MESSAGES = 3_000, 500
WORKER_CONCURRENCY = 4
GOAL_SEND_RATE = 100.0
DELAY_MS = 200.0  # the fake Twilio's answer delay by default: the goal holds with a real provider's latency
RATE_LIMIT = 60  # messages_per_minute; per hour and per day null
RATE_RUN_SECONDS, QUICK_RATE_RUN_SECONDS = 180, 65
RATE_LEADS = 1_000
GOAL_RATE_SHARE = 0.95

# Zones spread round the clock: the bench picks one where it is daytime now, so quiet hours (21:00–08:00
# local, a floor no window crosses) never block M1 whatever the hour the bench runs at.
ZONES = (
    "Europe/London", "Europe/Paris", "Europe/Athens", "Europe/Moscow", "Asia/Dubai", "Asia/Karachi", "Asia/Dhaka",
    "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane", "Pacific/Noumea", "Pacific/Auckland",
    "Pacific/Tongatapu", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage",
    "America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York", "America/Halifax",
    "America/Sao_Paulo", "Atlantic/South_Georgia", "Atlantic/Cape_Verde",
)  # fmt: skip


def daytime_zone(now: datetime) -> str:
    """Europe/London when it is 10:00–19:00 there, else the zone closest to 14:00 local."""

    def distance(zone: str) -> float:
        local = now.astimezone(ZoneInfo(zone))
        return abs(local.hour + local.minute / 60 - 14)

    if 10 <= now.astimezone(ZoneInfo("Europe/London")).hour < 19:
        return "Europe/London"
    return min(ZONES, key=distance)


class TimedFakeTwilio(FakeTwilio):
    """The tests' fake Twilio, also noting when (time.time()) each message arrived."""

    def _store(self, form: dict, *, status: str = "queued", at: datetime | None = None) -> dict:
        record = super()._store(form, status=status, at=at)
        record["bench_received"] = time.time()
        return record


def callback_message_id(record: dict) -> str | None:
    """Our message id, which rides in the StatusCallback URL."""
    url = record.get("status_callback") or ""
    return (parse_qs(urlsplit(url).query).get("message") or [None])[0]


# ---------------------------------------------------------------------------------------------------
# Clients, datasets, leads


def campaign_client(slug: str, *, zone: str, sender: str, per_minute: int | None, at: datetime):
    """A client with one dataset for a campaign: window 00:00–23:59 every day in `zone`, nudge off, the sender
    registered. `campaign_begin` starts it once the leads are in."""
    from django.db import connection

    from clients.numbers import sending_number_add
    from clients.services import client_create
    from leads.services import dataset_create

    client = client_create(name=f"Bench {slug}", slug=slug)
    connection.set_tenant(client)
    dataset = dataset_create(name=f"{slug} leads")
    options = dataset.campaign_settings
    options.sending_hours_start, options.sending_hours_end = clock_time(0, 0), clock_time(23, 59)
    options.sending_days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    options.sending_timezone, options.bank_holiday_region = zone, ""
    options.messages_per_minute, options.messages_per_hour, options.messages_per_day = per_minute, None, None
    options.silence_nudge_enabled = False
    options.twilio_number = sender
    options.save()
    sending_number_add(client=client, number=sender)  # a sending number must be the client's own
    return client, dataset


def campaign_begin(dataset, at: datetime) -> None:
    """The validated start, once the leads are in (a campaign with nobody to text is refused). populate's
    leads already carry their steps, so the start sets nothing due."""
    from campaigns.services import campaign_start

    campaign_start(dataset=dataset, at=at)


LEAD_COLUMNS = (
    "id", "dataset_id", "first_name", "last_name", "phone_number", "email", "postcode", "contact_status", "archived",
    "custom_fields", "call_booked", "manual_mode", "total_messages", "row_number", "sms_capable", "is_duplicate",
    "inquiry_date", "next_step", "due_at", "m1_sent_at", "m2_sent_at", "m3_sent_at", "last_message_at",
)  # fmt: skip


def due_offset(row_number: int) -> timedelta:
    """How long before the tick a due lead fell due (restored from row_number between runs)."""
    return timedelta(seconds=(row_number - 1) % 3600)


def populate(dataset, total: int, due: int, at: datetime) -> float:
    """COPYs `total` leads: `due` of them spread evenly and due (M1, due_at ≤ at); of the rest, half wait for
    M2 (due 1–47 h later) and half are through the cadence (next_step and due_at NULL). Seconds taken."""
    from django.db import connection

    every = total // due
    day = timedelta(days=1)
    started = perf_counter()
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY leads ({', '.join(LEAD_COLUMNS)}) FROM STDIN") as copy:
            for i in range(total):
                row_number = i + 1
                base = (
                    uuid.uuid4(), dataset.id, f"First{i}", f"Last{i}", f"+4474{i:08d}", f"lead{i}@example.com",
                    "SW1A 1AA",
                )  # fmt: skip
                if i % every == 0 and i // every < due:
                    state = ("READY", "M1", at - due_offset(row_number), None, None, None, None)
                elif i % 2:
                    sent = at - day
                    state = ("CONTACTED_1", "M2", at + timedelta(hours=1 + i % 47), sent, None, None, sent)
                else:
                    last = at - timedelta(days=1 + i % 20)  # inside silence_timeout_days: not going cold
                    state = ("CONTACTED_3", None, None, last - 5 * day, last - 3 * day, last, last)
                copy.write_row(
                    (*base, state[0], False, "{}", False, False, 0, row_number, True, False, None, *state[1:])
                )
    return perf_counter() - started


def execute(statement: str, params=None) -> list[tuple]:
    from bench.leads_data import execute as leads_execute

    return leads_execute(statement, params)


def tick_restore(dataset, at: datetime) -> None:
    """Undoes a queue-only tick: no outbox, conversations or events; the due leads due again as before."""
    execute("TRUNCATE messages, conversations, lead_events CASCADE")
    execute(
        """UPDATE leads SET due_at = %s - ((row_number - 1) %% 3600) * interval '1 second'
           WHERE dataset_id = %s AND next_step = 'M1' AND due_at IS NULL""",
        [at, dataset.id],
    )


def quiesce() -> None:
    for table_name in ("leads", "messages", "conversations", "lead_events"):
        execute(f"VACUUM (ANALYZE) {table_name}")
    execute("CHECKPOINT")


# ---------------------------------------------------------------------------------------------------
# (a) The tick against list size


@dataclass
class SqlLog:
    """Django execute wrapper: time per statement shape, and the due query as Django issued it."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    counts: Counter = field(default_factory=Counter)
    due_query: tuple[str, tuple] | None = None

    def __call__(self, execute_, sql, params, many, context):
        started = perf_counter()
        try:
            return execute_(sql, params, many, context)
        finally:
            shape = " ".join(sql.split())[:110]
            self.seconds[shape] += perf_counter() - started
            self.counts[shape] += 1
            if "FOR UPDATE SKIP LOCKED" in sql and '"due_at" <=' in sql:
                self.due_query = (sql, tuple(params or ()))

    def top(self, n: int = 5) -> list[tuple[str, float, int]]:
        ranked = sorted(self.seconds.items(), key=lambda item: item[1], reverse=True)[:n]
        return [(shape, seconds, self.counts[shape]) for shape, seconds in ranked]


@dataclass
class TickSize:
    size: int
    times: list[float]
    queued: list[int]
    populate_seconds: float
    explain: str
    top: list[tuple[str, float, int]]


def bench_tick_size(size: int, runs: int, zone: str, at: datetime) -> TickSize:
    from django.db import connection

    from campaigns.cadence import tick

    sender = f"+4474{size % 10**8:08d}"  # one number per client: a number belongs to one client
    client, dataset = campaign_client(f"benchtick{size}", zone=zone, sender=sender, per_minute=None, at=at)
    log(f"tick, {size:,} leads ({DUE:,} due): populating with COPY")
    populate_seconds = populate(dataset, size, DUE, at)
    campaign_begin(dataset, at)
    execute("ALTER TABLE leads SET (autovacuum_enabled = false)")
    (due_now,) = execute("SELECT count(*) FROM leads WHERE due_at <= %s", [at])[0]
    if due_now != DUE:
        raise RuntimeError(f"{due_now} leads due, expected {DUE}")
    times, queued = [], []
    sql_log = SqlLog()
    for run in range(runs + 1):  # the first is a warm-up
        quiesce()
        logger = SqlLog()
        with connection.execute_wrapper(logger):
            started = perf_counter()
            result = tick(at=at)
            seconds = perf_counter() - started
        tick_restore(dataset, at)
        if result.locked_out:
            raise RuntimeError("the tick was locked out")
        label = "warm-up" if run == 0 else f"run {run}/{runs}"
        log(f"  {label}: {seconds:.3f} s, {len(result.queued):,} queued")
        if run:
            times.append(seconds)
            queued.append(len(result.queued))
            sql_log = logger
    quiesce()
    explain = explain_due_query(sql_log)
    connection.set_schema_to_public()
    return TickSize(size, times, queued, populate_seconds, explain, sql_log.top())


def explain_due_query(sql_log: SqlLog) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the due query exactly as the tick issued it, in a rolled-back transaction."""
    from django.db import connection, transaction

    if sql_log.due_query is None:
        return "(the tick issued no due query)"
    sql, params = sql_log.due_query
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
        transaction.set_rollback(True)
    try:
        shown = connection.ops.compose_sql(sql, params)
    except Exception:  # a driver without client-side composition: show the parameters apart
        shown = f"{sql}\n-- params: {params!r}"
    return f"{shown}\n\n{plan}"


def tick_results(sizes: list[TickSize]) -> list[Result]:
    small, large = sizes[0], sizes[-1]
    ratio = median(large.times) / median(small.times)
    results = []
    for entry in sizes:
        notes = (
            f"queue-only tick(at=…) in the client's schema, {DUE:,} due, queued {', '.join(map(str, entry.queued))}; "
            f"window open, limits null; populated by COPY in {entry.populate_seconds:.1f} s"
        )
        if entry is large:
            notes += (
                f"; ratio {large.size:,}/{small.size:,} = {ratio:.2f} "
                f"(goal ≤ {GOAL_TICK_RATIO}: {'PASS' if ratio <= GOAL_TICK_RATIO else 'FAIL'})"
            )
        results.append(Result(f"tick, {DUE:,} due of {entry.size:,} leads", entry.size, entry.times, notes))
    return results


# ---------------------------------------------------------------------------------------------------
# (b) Send throughput through real Celery workers


def worker_env(fake: FakeTwilio) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dbr.settings",
        "REDIS_URL": REDIS_URL,
        "CELERY_QUEUE": QUEUE,
        "DBR_SMS_BACKEND": "twilio",
        "TWILIO_API_BASE_URL": fake.base_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "LOG_LEVEL": "WARNING",
    }


def worker_start(fake: FakeTwilio, concurrency: int, log_path: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "celery", "-A", "dbr", "worker", "-Q", QUEUE, "--pool", "prefork",
        "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-l", "warning", "-n", f"bench-{os.getpid()}@%h",
    ]  # fmt: skip
    with open(log_path, "w") as output:
        # Its own session: the worker and its pool children can be stopped as one group.
        return subprocess.Popen(
            command, cwd=REPO, env=worker_env(fake), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )


def worker_stop(worker: subprocess.Popen) -> None:
    """Terminate (warm shutdown), then kill the worker's process group if it lingers."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log("  worker did not stop in 20 s: killing its process group")
    try:
        os.killpg(worker.pid, signal.SIGKILL)  # pool children left behind, if any
    except ProcessLookupError:
        pass
    if worker.poll() is None:
        worker.wait(timeout=10)


_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def _postgres_pids() -> list[int]:
    """This run's PostgreSQL backends and the server's shared background writers."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                title = cmdline.read().decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres:") and (
            CADENCE_DB in title or any(w in title for w in ("walwriter", "wal writer", "checkpointer", "writer"))
        ):
            pids.append(int(entry))
    return pids


class CpuSampler(Sampler):
    """Every 0.25 s: cumulative CPU seconds of the worker tree, of this process (the fake Twilio) and of
    PostgreSQL (this database's backends), so the busy share between two instants can be read off."""

    def __init__(self, worker_pid: int):
        super().__init__()
        self.worker_pid = worker_pid
        self.samples: list[tuple[float, float, float, float]] = []
        self._seen: dict[int, float] = {}  # worker-tree processes: the last CPU seen (they may exit)
        self._seen_postgres: dict[int, float] = {}

    def sample(self) -> None:
        for pid in process_tree(self.worker_pid):
            self._seen[pid] = max(self._seen.get(pid, 0.0), _cpu_seconds(pid))
        for pid in _postgres_pids():  # backends come and go: keep what each one used
            self._seen_postgres[pid] = max(self._seen_postgres.get(pid, 0.0), _cpu_seconds(pid))
        self.samples.append(
            (time.time(), sum(self._seen.values()), _cpu_seconds(os.getpid()), sum(self._seen_postgres.values()))
        )

    def shares(self, start: float, end: float) -> str:
        """Each party's CPU between two instants, as % of one core (the machine has os.cpu_count() cores)."""
        inside = [sample for sample in self.samples if start <= sample[0] <= end]
        if len(inside) < 2:
            return "too short to sample"
        first, last = inside[0], inside[-1]
        wall = last[0] - first[0]
        workers, fake, postgres = ((last[i] - first[i]) / wall * 100 for i in (1, 2, 3))
        return (
            f"CPU while sending (% of one core; {os.cpu_count()} cores): workers {workers:.0f}%, "
            f"PostgreSQL {postgres:.0f}%, fake Twilio (bench process) {fake:.0f}%"
        )


@dataclass
class SendRun:
    messages: int
    rate: float
    span: float
    startup: float
    check: str
    statuses: dict[str, int]
    cpu: str
    concurrency: int
    threads: int = 1
    delay_ms: float = 0.0


def bench_send(fake: TimedFakeTwilio, count: int, zone: str, workdir: Path, concurrency: int) -> SendRun:
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from campaigns.cadence import tick
    from campaigns.models import Message
    from campaigns.tasks import sends_queue

    sender = "+447400000002"
    at = timezone.now()
    client, dataset = campaign_client("benchsend", zone=zone, sender=sender, per_minute=None, at=at)
    populate(dataset, count, count, at - timedelta(hours=1))
    campaign_begin(dataset, at)
    result = tick(at=at)
    if len(result.queued) != count:
        raise RuntimeError(f"the tick queued {len(result.queued)} messages, expected {count}")
    log(f"send: {count:,} pending messages; queueing their send tasks on {QUEUE} ({REDIS_URL}) as the tick does")
    sends_queue(result.queued)  # batches of DBR_SEND_BATCH, each sent on DBR_SEND_THREADS threads
    log(
        f"send: starting a Celery worker (prefork, concurrency {concurrency}, {settings.DBR_SEND_THREADS} send "
        f"threads each) on the fake Twilio answering in {fake.answer_delay * 1000:.0f} ms"
    )
    sessions_before = _sessions()
    started = time.time()
    worker = worker_start(fake, concurrency, workdir / "celery-worker.log")
    try:
        with CpuSampler(worker.pid) as cpu:
            deadline = time.monotonic() + 60 + count / 20
            while time.monotonic() < deadline:
                left = Message.objects.filter(status__in=["pending", "sending"]).count()
                if not left or worker.poll() is not None:
                    break
                time.sleep(0.5)
            else:
                log("  gave up waiting for the sends")
    finally:
        worker_stop(worker)
    statuses = _status_counts()
    mine = [m for m in fake.messages if m["from"] == sender]
    arrived = sorted(m["bench_received"] for m in mine)
    span = arrived[-1] - arrived[0] if len(arrived) > 1 else 0.0
    rate = (len(arrived) - 1) / span if span else 0.0
    check = exactly_once(mine, {str(m) for m in result.queued})
    if check != "OK" or worker.returncode not in (0, -signal.SIGTERM):
        tail = (workdir / "celery-worker.log").read_text().splitlines()[-30:]
        shown = "\n    ".join(tail)
        log(f"  worker exited {worker.returncode}; the end of its log:\n    {shown}")
    connection.set_schema_to_public()
    shares = cpu.shares(arrived[0], arrived[-1]) if arrived else ""
    shares += f"; {_sessions() - sessions_before:,} PostgreSQL sessions opened by the worker"
    log(f"  {len(arrived):,} sends in {span:.1f} s = {rate:.0f} msg/s; {shares}")
    return SendRun(
        len(arrived), rate, span, (arrived[0] - started) if arrived else 0.0, check, statuses, shares, concurrency,
        settings.DBR_SEND_THREADS, fake.answer_delay * 1000,
    )  # fmt: skip


def _sessions() -> int:
    """Sessions ever opened on the bench database (PostgreSQL ≥ 14 counts them)."""
    execute("SELECT pg_stat_clear_snapshot()")
    return execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")[0][0]


def _status_counts() -> dict[str, int]:
    return dict(execute("SELECT status, count(*) FROM messages GROUP BY status ORDER BY status"))


def exactly_once(received: list[dict], queued: set[str]) -> str:
    """Each queued message reached the fake exactly once, and each is `sent` with the SID the fake gave it."""
    counts = Counter(callback_message_id(m) for m in received)
    missing = queued - set(counts)
    twice = [message_id for message_id, n in counts.items() if n > 1]
    strangers = set(counts) - queued
    sids = {callback_message_id(m): m["sid"] for m in received}
    stored = dict(execute("SELECT id::text, twilio_sid FROM messages WHERE status = 'sent'"))
    wrong_sid = [message_id for message_id in queued & set(sids) if stored.get(message_id) != sids[message_id]]
    problems = []
    if missing:
        problems.append(f"{len(missing)} never arrived")
    if twice:
        problems.append(f"{len(twice)} arrived more than once")
    if strangers:
        problems.append(f"{len(strangers)} unknown")
    if wrong_sid:
        problems.append(f"{len(wrong_sid)} not recorded as sent with their SID")
    return "OK" if not problems else "FAIL: " + ", ".join(problems)


def send_results(run: SendRun) -> list[Result]:
    verdict = "PASS" if run.rate >= GOAL_SEND_RATE else "FAIL"
    return [
        Result(
            f"send {run.messages:,} messages: Celery → Twilio SDK → fake Twilio answering in {run.delay_ms:.0f} ms",
            run.messages,
            [run.span],
            f"{run.rate:.0f} msg/s from first to last send (goal ≥ {GOAL_SEND_RATE:.0f} with a 200 ms answer: "
            f"{verdict}); 1 worker, prefork ×{run.concurrency} × {run.threads} send threads, batched tasks queued "
            f"before it started (first send {run.startup:.1f} s after launch); "
            f"each exactly once and recorded with its SID: {run.check}; statuses "
            + ", ".join(f"{status} {n:,}" for status, n in run.statuses.items())
            + f"; {run.cpu}",
        )
    ]


# ---------------------------------------------------------------------------------------------------
# (c) Rate limits held over a run


def max_in_window(times: list[float], span: float = 60.0) -> int:
    """The most events in any window [t, t + span)."""
    ordered = sorted(times)
    return max((bisect_left(ordered, t + span) - i for i, t in enumerate(ordered)), default=0)


def shortest_span(times: list[float], events: int) -> float | None:
    """The shortest time holding `events` events (limit + 1: under 60 s means the limit was crossed)."""
    ordered = sorted(times)
    spans = [ordered[i + events - 1] - ordered[i] for i in range(len(ordered) - events + 1)]
    return min(spans) if spans else None


def fewest_in_window(times: list[float], start: float, end: float, span: float = 60.0) -> int:
    """The fewest events in any window [t, t + span) with start <= t <= end - span (work due throughout)."""
    ordered = sorted(times)
    # The count only drops just after an event leaves the window: those are the instants to try.
    starts = [start, *(t + 1e-6 for t in ordered if start <= t < end - span)]
    return min((bisect_left(ordered, t + span) - bisect_left(ordered, t) for t in starts), default=0)


@dataclass
class RateRun:
    seconds: float
    ticks: int
    sent: int
    windows: dict[str, int]  # clock → the most messages in any sliding 60 s by it
    tightest: float | None  # the shortest span holding limit + 1 arrivals at the fake
    fewest: int  # the fewest arrivals in any sliding 60 s from the first arrival to the end of the run
    statuses: dict[str, int]
    left_due: int


def bench_rate(fake: TimedFakeTwilio, duration: float, zone: str, workdir: Path, concurrency: int) -> RateRun:
    """The product's own path: a tick task every DBR_CADENCE_TICK_SECONDS (as beat queues it) on a Celery
    worker, which plans each text's send time and sends it with a delayed task when its slot frees."""
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from campaigns.tasks import tick_client
    from clients.queue import enqueue

    sender = "+447400000003"
    now = timezone.now()
    client, dataset = campaign_client("benchrate", zone=zone, sender=sender, per_minute=RATE_LIMIT, at=now)
    populate(dataset, RATE_LEADS, RATE_LEADS, now - timedelta(hours=1))
    campaign_begin(dataset, now)
    every = settings.DBR_CADENCE_TICK_SECONDS
    log(f"rate: messages_per_minute={RATE_LIMIT}; a tick task every {every} s for {duration:.0f} s on a Celery worker")
    worker = worker_start(fake, concurrency, workdir / "celery-worker-rate.log")
    try:
        time.sleep(3)  # the worker's start-up, outside the run
        started = time.time()
        ticks = 0
        while (slot := started + ticks * every) < started + duration:
            time.sleep(max(0.0, slot - time.time()))
            enqueue(tick_client, after_commit=False)
            ticks += 1
        time.sleep(max(0.0, started + duration - time.time()))
        ended = time.time()
    finally:
        worker_stop(worker)
    arrived = [m["bench_received"] for m in fake.messages if m["from"] == sender and m["bench_received"] < ended]
    stamps = execute("SELECT sending_at, answered_at FROM messages WHERE direction = 'outbound'")
    statuses = _status_counts()
    (left_due,) = execute("SELECT count(*) FROM leads WHERE due_at <= now()")[0]
    connection.set_schema_to_public()
    if arrived:
        first = min(arrived)
        per_ten = Counter(int((t - first) // 10) * 10 for t in arrived)
        log("  arrivals per 10 s from the first: " + ", ".join(f"{k}s: {n}" for k, n in sorted(per_ten.items())))
    windows = {
        "arrival at the fake Twilio": max_in_window(arrived),
        "sending_at": max_in_window([sending.timestamp() for sending, _ in stamps if sending]),
        "answered_at": max_in_window([answered.timestamp() for _, answered in stamps if answered]),
    }
    fewest = fewest_in_window(arrived, min(arrived), ended) if arrived else 0
    return RateRun(
        ended - started, ticks, len(arrived), windows, shortest_span(arrived, RATE_LIMIT + 1), fewest, statuses,
        left_due,
    )  # fmt: skip


def rate_results(run: RateRun) -> list[Result]:
    held = all(count <= RATE_LIMIT for count in run.windows.values())
    share = run.fewest / RATE_LIMIT
    plain = run.sent / run.seconds * 60
    tightest = f"; the shortest span holding {RATE_LIMIT + 1} arrivals: {run.tightest:.3f} s" if run.tightest else ""
    return [
        Result(
            f"rate limit {RATE_LIMIT}/min held over {run.seconds:.0f} s (Celery worker, tick task every minute)",
            run.sent,
            [],
            "max in any sliding 60 s by "
            + ", ".join(f"{clock}: {count}" for clock, count in run.windows.items())
            + f" (limit {RATE_LIMIT}: {'PASS' if held else 'FAIL'}){tightest}; {run.ticks} ticks; message statuses "
            + ", ".join(f"{what} {n}" for what, n in sorted(run.statuses.items()))
            + f"; {run.left_due:,} leads still due at the end",
        ),
        Result(
            f"rate while work was due, limit {RATE_LIMIT}/min",
            run.sent,
            [],
            f"the fewest arrivals in any sliding 60 s from the first to the end of the run: {run.fewest} = {share:.0%} "
            f"of the limit (goal ≥ {GOAL_RATE_SHARE:.0%}: {'PASS' if share >= GOAL_RATE_SHARE else 'FAIL'}); "
            f"{run.sent} sent in {run.seconds:.0f} s = {plain:.1f}/min overall",
        ),
    ]


# ---------------------------------------------------------------------------------------------------


def header(zone: str, pg_version: str, load_at_start: float, quick: bool) -> str:
    from bench.main import git_revision

    local = datetime.now(UTC).astimezone(ZoneInfo(zone))
    return (
        f"# DBR cadence benchmark — {datetime.now():%Y-%m-%d %H:%M}{' (--quick)' if quick else ''}\n\n"
        f"git {git_revision()}; PostgreSQL {pg_version}; Python {platform.python_version()}; "
        f"{os.cpu_count()} CPUs; database {CADENCE_DB} (recreated for the run); broker {REDIS_URL}; "
        f"campaign time zone {zone} ({local:%H:%M} local at the start), window 00:00–23:59 every day; "
        f"1-min load average {load_at_start:.1f} at start, {os.getloadavg()[0]:.1f} at end\n"
    )


def details(sizes: list[TickSize]) -> str:
    if not sizes:
        return ""
    parts = ["\n## The due query, as the tick issued it, with EXPLAIN (ANALYZE, BUFFERS)\n"]
    for entry in sizes:
        parts.append(f"\n### {entry.size:,} leads ({DUE:,} due)\n\n```\n{entry.explain}\n```\n")
    parts.append("\n## Where a tick's time goes (last timed run; statements by total time)\n")
    for entry in sizes:
        parts.append(f"\n### {entry.size:,} leads\n\n| seconds | calls | statement (start) |\n|---|---|---|\n")
        for shape, seconds, calls in entry.top:
            parts.append(f"| {seconds:.3f} | {calls:,} | `{shape.replace('|', '/')}` |\n")
    return "".join(parts)


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/cadence", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (under 2 minutes): smaller sizes")
    parser.add_argument("--keep", action="store_true", help=f"keep the {CADENCE_DB} database afterwards")
    parser.add_argument(
        "--concurrency", type=int, default=WORKER_CONCURRENCY, help="the send worker's prefork processes"
    )
    parser.add_argument("--only", help="comma-separated parts to run: tick, send, rate (default: all)")
    parser.add_argument(
        "--delay-ms", type=float, default=DELAY_MS, help="how long the fake Twilio takes to answer each request"
    )
    parser.add_argument("--threads", type=int, default=None, help="send threads per worker process (DBR_SEND_THREADS)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    load_at_start = os.getloadavg()[0]
    zone = daytime_zone(datetime.now(UTC))
    fake = TimedFakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).start()
    fake.answer_delay = args.delay_ms / 1000  # a real provider's latency: Twilio answers in ~100–300 ms
    if args.threads is not None:
        os.environ["DBR_SEND_THREADS"] = str(args.threads)  # read by this process's settings and the worker's
    for name, value in worker_env(fake).items():
        os.environ[name] = value  # the same settings for this process as for the workers
    workdir = Path(tempfile.mkdtemp(prefix="dbr-bench-cadence-"))  # the worker's log
    set_up = False
    try:
        log(f"recreating database {CADENCE_DB}; campaign time zone {zone}; fake Twilio at {fake.base_url}")
        database.django_setup(database.recreate(CADENCE_DB))
        set_up = True
        from django.utils import timezone

        _flush_redis()
        parts = set((args.only or "tick,send,rate").split(","))
        at = timezone.now().replace(microsecond=0)
        sizes = [
            bench_tick_size(size, QUICK_TICK_RUNS if args.quick else TICK_RUNS, zone, at)
            for size in (QUICK_TICK_SIZES if args.quick else TICK_SIZES)
            if "tick" in parts
        ]
        results = tick_results(sizes) if sizes else []
        if "send" in parts:
            count = QUICK_SEND_MESSAGES if args.quick else SEND_MESSAGES
            results += send_results(bench_send(fake, count, zone, workdir, args.concurrency))
        if "rate" in parts:
            seconds = QUICK_RATE_RUN_SECONDS if args.quick else RATE_RUN_SECONDS
            results += rate_results(bench_rate(fake, seconds, zone, workdir, args.concurrency))
        pg_version = database.server_version()
        text = header(zone, pg_version, load_at_start, args.quick) + "\n" + table(results) + "\n" + details(sizes)
        publish(text, RESULTS_FILE)
    finally:
        if set_up:
            from django.db import connections

            connections.close_all()
        fake.stop()
        _flush_redis()
        shutil.rmtree(workdir, ignore_errors=True)
        if args.keep:
            log(f"kept database {CADENCE_DB}")
        else:
            database.drop(CADENCE_DB)
            log(f"dropped database {CADENCE_DB}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
