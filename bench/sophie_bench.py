"""bench/sophie: how fast Sophie answers through a real worker, and how safe the rules backend is.

    bench/sophie [--quick] [--keep]

1. Reply latency: gunicorn serving the real app and a real Celery worker (prefork, 2 processes) on their own
   database (dbr_bench_sophie) and Redis db 12, the twilio transport talking to a local fake Twilio (the real
   SDK), `ai_response_delay_seconds` = 0 and the `rules` backend. Each lead texts "yes how much is it" once,
   signed as Twilio signs it; the time is from just before the POST to the reply's `sent_at` (the fake Twilio
   accepted it). Goal: p95 < 2 s.
2. The rules backend on tests/data/replies_labelled.csv: every reply Sophie would answer (not an opt-out, not
   an auto-reply) is answered by `agent_reply` on a lead whose thread is M1 + that reply; the table gives the
   share handed off, the share failing a guardrail on the first try, and unsafe texts sent (a final text that
   fails any guardrail when checked again). Goal: 0 unsafe.
Writes bench/results/sophie.md.
"""

import argparse
import csv
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from time import perf_counter
from urllib.parse import urlencode, urlsplit

import redis

from bench import database
from bench.inbound_bench import free_port, percentile
from bench.log import log
from bench.report import Result, publish, table

SOPHIE_DB = "dbr_bench_sophie"
REDIS_URL = "redis://127.0.0.1:6379/12"
QUEUE = "dbr_bench_sophie"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "sophie.md"
REPO = Path(__file__).resolve().parent.parent
LABELLED = REPO / "tests" / "data" / "replies_labelled.csv"
ACCOUNT_SID, AUTH_TOKEN = "AC" + "d" * 32, "bench-sophie-auth-token"
SLUG, SENDER, BOOKING_LINK = "benchsophie", "+447400999002", "https://cal.com/bench/survey"
REPLIES, QUICK_REPLIES = 200, 40
SPACING = 0.25  # seconds between texts: a busy afternoon, not a flood (the webhook bench does floods)
GOAL_P95 = 2.0


def bench_env(port: int, twilio_url: str) -> dict[str, str]:
    return {
        "REDIS_URL": REDIS_URL,
        "CELERY_QUEUE": QUEUE,
        "DBR_SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": twilio_url,
        "DBR_PUBLIC_PORT": str(port),
        "DBR_LLM_BACKEND": "rules",
    }


def start(command: list[str], log_path: Path) -> subprocess.Popen:
    """A child in its own session (stopped as a group), logging to a file."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dbr.settings"}
    with open(log_path, "w") as out:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def wait_until_serving(origin: str, host: str) -> None:
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(origin + "/healthz", headers={"Host": host}, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within 60 s")


def client_with_leads(count: int):
    from django.db import connection

    from clients.numbers import sending_number_add
    from clients.services import client_create
    from leads.models import CampaignSettings, Lead
    from leads.services import dataset_create

    client = client_create(name="Bench Sophie", slug=SLUG)
    sending_number_add(client=client, number=SENDER)  # texts to a number that is not the client's are foreign_to
    connection.set_tenant(client)
    dataset = dataset_create(name="Sophie bench")
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(
        twilio_number=SENDER, cal_booking_link=BOOKING_LINK, ai_response_delay_seconds=0,
        ai_multiple_messages_wait_seconds=0, messages_per_minute=None, messages_per_hour=None,
        messages_per_day=None,
    )  # fmt: skip
    leads = Lead.objects.bulk_create(
        Lead(dataset=dataset, first_name=f"Lead{n}", phone_number=f"+4475{n:08d}", contact_status="CONTACTED_1")
        for n in range(count)
    )
    return client, dataset, leads


def signed_post(client, phone: str, body: str) -> tuple[bytes, dict[str, str]]:
    from campaigns.twilio_signature import twilio_sign
    from clients.access import client_url

    params = {
        "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": phone, "To": SENDER,
        "Body": body, "NumMedia": "0",
    }  # fmt: skip
    url = client_url(client, "/webhooks/twilio/sms/")
    headers = {
        "Host": urlsplit(url).hostname,
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_sign(url, params),
    }
    return urlencode(params).encode(), headers


def bench_latency(origin: str, client, leads, count: int) -> Result:
    """Texts at a steady pace from `count` leads; waits for every AI reply to be accepted by the fake Twilio."""
    import requests

    from campaigns.models import Message

    posted: dict[str, float] = {}
    failures: list[str] = []

    def send(lead) -> None:
        body, headers = signed_post(client, lead.phone_number, "yes how much is it")
        posted[str(lead.pk)] = time.time()
        answer = requests.post(origin + "/webhooks/twilio/sms/", data=body, headers=headers, timeout=30)
        if answer.status_code != 200:
            failures.append(f"{answer.status_code}")

    threads = []
    for lead in leads[:count]:
        thread = threading.Thread(target=send, args=(lead,))
        thread.start()
        threads.append(thread)
        time.sleep(SPACING)
    for thread in threads:
        thread.join()
    deadline = time.monotonic() + 120
    sent = {}
    while time.monotonic() < deadline and len(sent) < count:
        rows = Message.objects.filter(ai_generated=True, sent_at__isnull=False).values_list("lead_id", "sent_at")
        sent = {str(lead_id): at.timestamp() for lead_id, at in rows}
        time.sleep(0.5)
    latencies = [sent[lead_id] - posted[lead_id] for lead_id in posted if lead_id in sent]
    missing = count - len(latencies)
    if not latencies:
        raise RuntimeError(f"no AI reply was sent within 120 s ({len(failures)} webhook errors): see the logs")
    notes = (
        f"p50 {median(latencies):.2f} s, p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s; "
        f"goal p95 < {GOAL_P95:.0f} s: {'PASS' if percentile(latencies, 0.95) < GOAL_P95 else 'FAIL'}; "
        f"{missing} replies missing after 120 s; {len(failures)} webhook errors; one text every {SPACING} s"
    )
    name = "inbound webhook → AI reply accepted by Twilio (real worker, rules, delay 0)"
    return Result(name, count, latencies, notes)


def labelled_replies() -> list[dict]:
    with open(LABELLED, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def bench_rules(dataset) -> list[Result]:
    """`agent_reply` (rules backend) on every labelled reply Sophie would answer; nothing is saved by it."""
    from campaigns.models import Conversation, Message
    from leads.models import Lead
    from sophie.agent import HANDOFF, agent_reply
    from sophie.classify import classify
    from sophie.guardrails import first_failure, guardrails_check
    from sophie.llm.rules import RulesBackend

    rows = [row for row in labelled_replies() if classify(row["text"]).intent not in ("opt_out", "auto_reply")]
    now = datetime.now(UTC)
    backend = RulesBackend()
    handed = first_try = unsafe = 0
    times: list[float] = []
    for n, row in enumerate(rows):
        lead = Lead.objects.create(dataset=dataset, first_name="Sam", phone_number=f"+4476{n:08d}",
                                   contact_status="CONTACTED_1")  # fmt: skip
        conversation = Conversation.objects.create(lead=lead, dataset=dataset)
        Message.objects.create(
            conversation=conversation, lead=lead, direction="outbound", message_type="M1", status="delivered",
            content="Hi Sam, it's Sophie at Bench Sophie. You asked about solar panels. Is that still on your list? "
            "Reply STOP to opt out.", sent_at=now - timedelta(hours=2),
        )  # fmt: skip
        Message.objects.create(
            conversation=conversation, lead=lead, direction="inbound", status="received", content=row["text"],
            sent_at=now - timedelta(minutes=1),
        )  # fmt: skip
        started = perf_counter()
        result = agent_reply(lead=lead, at=now, backend=backend)
        times.append(perf_counter() - started)
        handed += result.action == HANDOFF
        first_try += bool(result.attempts and result.attempts[0].get("failed"))
        if result.text:
            from sophie.agent import context_build

            context, _, _, previous = context_build(lead=lead, at=now)
            if first_failure(guardrails_check(result.text, context=context, previous_text=previous)):
                unsafe += 1
    total = len(rows)
    return [
        Result(
            "rules backend: replies answered (agent_reply, in-process)",
            total,
            times,
            f"{handed} handed off ({handed / total:.1%}); {first_try} failed a guardrail on the first try "
            f"({first_try / total:.1%}); unsafe texts sent: {unsafe} (goal 0: {'PASS' if unsafe == 0 else 'FAIL'})",
        )  # fmt: skip
    ]


def header(load_at_start: float, quick: bool) -> str:
    from bench.main import git_revision

    return (
        f"# DBR Sophie benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC{' (--quick)' if quick else ''}\n\n"
        f"git {git_revision()}; PostgreSQL {database.server_version()}; Python {platform.python_version()}; "
        f"{os.cpu_count()} CPUs; database {SOPHIE_DB}; broker {REDIS_URL}; gunicorn 2 sync workers and one Celery "
        f"worker (prefork, 2 processes) on loopback; fake Twilio in the bench process; 1-min load average "
        f"{load_at_start:.1f} at start, {os.getloadavg()[0]:.1f} at end\n"
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/sophie", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_REPLIES} replies instead of {REPLIES}")
    parser.add_argument("--keep", action="store_true", help=f"keep the {SOPHIE_DB} database afterwards")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(REPO))
    from tests.fakes.twilio_server import FakeTwilio

    args = parse_args(argv)
    count = QUICK_REPLIES if args.quick else REPLIES
    load_at_start = os.getloadavg()[0]
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="dbr-bench-sophie-"))
    fake = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    os.environ.update(bench_env(port, fake.base_url))
    children: list[subprocess.Popen] = []
    try:
        log(f"recreating database {SOPHIE_DB}")
        database.django_setup(database.recreate(SOPHIE_DB))
        redis.Redis.from_url(REDIS_URL).flushdb()
        client, dataset, leads = client_with_leads(count)
        python = sys.executable
        web = [python, "-m", "gunicorn", "dbr.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        worker = [python, "-m", "celery", "-A", "dbr", "worker", "-Q", QUEUE, "--concurrency", "2",
                  "--without-gossip", "--without-mingle", "-l", "warning"]  # fmt: skip
        children += [start(web, workdir / "gunicorn.log"), start(worker, workdir / "worker.log")]
        origin = f"http://127.0.0.1:{port}"
        wait_until_serving(origin, f"{SLUG}.localhost")
        time.sleep(3)  # the worker connects to the broker
        log(f"{count} texts, one every {SPACING} s, each answered by Sophie through the worker")
        results = [bench_latency(origin, client, leads, count)]
        log("the rules backend on the labelled replies")
        results += bench_rules(dataset)
        publish(header(load_at_start, args.quick) + "\n" + table(results) + "\n", RESULTS_FILE)
    finally:
        for child in children:
            stop(child)
        fake.stop()
        from django.db import connections

        connections.close_all()
        redis.Redis.from_url(REDIS_URL).flushdb()
        if args.keep:
            log(f"kept database {SOPHIE_DB}; logs in {workdir}")
        else:
            database.drop(SOPHIE_DB)
            shutil.rmtree(workdir, ignore_errors=True)
            log(f"dropped database {SOPHIE_DB}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
