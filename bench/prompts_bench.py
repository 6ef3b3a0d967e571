"""bench/prompts: how long the prompt page's figures take on a dataset with many conversations.

    bench/prompts [--quick] [--keep] [--conversations N]

One client on its own database (dbr_bench_prompts). One dataset has a live version and a draft on trial for
50% of its conversations; each conversation has M1, the lead's first reply, one AI text from its arm's
version and, for 60% (trial arm) or 45% (control), the lead's answer; 5% of leads booked a call and 2% opted
out. Leads, conversations and messages are written by INSERT … SELECT in the database, the AiReply rows by
bulk_create (so the model's defaults apply). Timed, median of 5 after one warm-up:

1. `prompt_performance` of the live version (all its conversations, the window-function pass included);
2. `trial_comparison` (the selector once per arm, scoped to the arm);
3. `agent_inputs` for one lead with the trial running (per call, median of 200): what every AI reply pays.
Writes bench/results/prompts.md.
"""

import argparse
import os
import platform
import statistics
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import perf_counter

from bench import database
from bench.log import log
from bench.report import Result, publish, table

PROMPTS_DB = "dbr_bench_prompts"
SLUG = "benchprompts"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "prompts.md"
FULL, QUICK = 20_000, 2_000
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/prompts", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} conversations instead of {FULL:,}")
    parser.add_argument("--keep", action="store_true", help=f"keep the {PROMPTS_DB} database afterwards")
    parser.add_argument("--conversations", type=int, help="how many conversations (overrides --quick)")
    return parser.parse_args(argv)


def timed(function, runs: int = 5) -> list[float]:
    function()  # warm-up: plans cached, pages in the buffer cache
    times = []
    for _ in range(runs):
        started = perf_counter()
        function()
        times.append(perf_counter() - started)
    return times


def fill(n: int):
    """The dataset, its two versions on trial, and `n` conversations; returns (dataset, live, draft, trial)."""
    from django.db import connection

    from leads.services import dataset_create
    from sophie.models import AiReply
    from sophie.prompts import prompt_for_dataset_create, prompt_go_live, prompt_sections_save
    from sophie.trials import trial_start

    dataset = dataset_create(name="Bench")
    live = prompt_go_live(prompt=prompt_for_dataset_create(dataset=dataset, actor=None, at=T0), actor=None, at=T0)
    draft = prompt_sections_save(base=live, contents={"tone": "Shorter."}, why="bench", actor=None, at=T0)
    trial = trial_start(prompt=draft, share_percent=50, actor=None, at=T0)
    params = {"dataset": dataset.pk, "n": n, "trial": trial.pk, "t0": T0}
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO leads (dataset_id, first_name, phone_number) "
            "SELECT %(dataset)s, 'Lead' || g, '+4474' || lpad(g::text, 8, '0') FROM generate_series(1, %(n)s) g",
            params,
        )
        cursor.execute(
            "INSERT INTO conversations (dataset_id, lead_id, handoff_reason, message_count, status, needs_review, "
            "trial_id, trial_arm) SELECT %(dataset)s, id, '', 4, 'active', false, %(trial)s, "
            "CASE WHEN row_number() OVER (ORDER BY id) %% 2 = 0 THEN 'trial' ELSE 'control' END "
            "FROM leads WHERE dataset_id = %(dataset)s",
            params,
        )
        message = (
            "INSERT INTO messages (lead_id, conversation_id, direction, content, status, ai_generated, attempts, "
            "unknown_count, sent_at, created_at, classification) "
            "SELECT c.lead_id, c.id, %(direction)s, %(content)s, %(status)s, %(ai)s, 0, 0, "
            "CASE WHEN %(direction)s = 'outbound' THEN %(at)s END, %(at)s, %(classification)s::jsonb "
            "FROM conversations c WHERE c.dataset_id = %(dataset)s AND {where}"
        )
        steps = [
            ("outbound", "M1", "delivered", False, T0, None, "true"),
            ("inbound", "yes", "received", False, T0 + timedelta(minutes=5), '{"sentiment": "positive"}', "true"),
            ("outbound", "AI text", "delivered", True, T0 + timedelta(minutes=6), None, "true"),
            (
                "inbound",
                "sounds good",
                "received",
                False,
                T0 + timedelta(minutes=20),
                '{"sentiment": "neutral"}',
                "abs(hashtext(c.id::text)) %% 100 < CASE c.trial_arm WHEN 'trial' THEN 60 ELSE 45 END",
            ),
        ]
        for direction, content, status, ai, at, classification, where in steps:
            cursor.execute(
                message.format(where=where),
                params
                | {
                    "direction": direction,
                    "content": content,
                    "status": status,
                    "ai": ai,
                    "at": at,
                    "classification": classification,
                },
            )
        for event, data, share in (("call_booked", "{}", 5), ("suppressed", '{"source": "opt_out"}', 2)):
            cursor.execute(
                "INSERT INTO lead_events (lead_id, event_type, data, created_at) SELECT id, %s, %s::jsonb, %s "
                "FROM leads WHERE dataset_id = %s AND abs(hashtext(id::text || %s)) %% 100 < %s",
                [event, data, T0 + timedelta(hours=2), dataset.pk, event, share],
            )
        cursor.execute(
            "SELECT m.id, c.trial_arm FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "WHERE m.ai_generated AND c.dataset_id = %s",
            [dataset.pk],
        )
        rows = cursor.fetchall()
    AiReply.objects.bulk_create(
        [
            AiReply(
                message_id=message_id,
                prompt=draft if arm == "trial" else live,
                prompt_version_number=2 if arm == "trial" else 1,
                backend="rules",
                action="send",
                written_at=T0 + timedelta(minutes=6),
            )
            for message_id, arm in rows
        ],
        batch_size=5_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return dataset, live, draft, trial


def run(n: int) -> list[Result]:
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from clients.services import client_create
    from leads.models import Lead
    from sophie.performance import prompt_performance
    from sophie.selectors import agent_inputs
    from sophie.trials import trial_comparison

    log("creating the client")
    client_create(name="Bench Prompts", slug=SLUG)
    with schema_context(SLUG):
        log(f"writing {n:,} conversations")
        started = perf_counter()
        dataset, live, _, trial = fill(n)
        log(f"written in {perf_counter() - started:.1f} s")
        perf = prompt_performance(prompt=live)
        comparison = trial_comparison(trial=trial)
        reply = comparison.rates[0]
        results = [
            Result(
                "prompt_performance (live version)",
                perf.conversations,
                timed(lambda: prompt_performance(prompt=live)),
                f"{perf.ai_texts:,} AI texts; reply rate {perf.reply_rate.value:.1%}",
            ),
            Result(
                "trial_comparison (two arms)",
                n,
                timed(lambda: trial_comparison(trial=trial)),
                f"reply {reply.trial.value:.1%} vs {reply.control.value:.1%}, {reply.p_shown}",
            ),
        ]
        leads = list(Lead.objects.filter(dataset=dataset).select_related("dataset__campaign_settings")[:200])
        at = timezone.now()
        per_call = []
        for lead in leads:
            started = perf_counter()
            agent_inputs(dataset=dataset, at=at, lead=lead)
            per_call.append(perf_counter() - started)
        results.append(
            Result(
                "agent_inputs with a trial (per reply)",
                len(leads),
                per_call,
                f"median {statistics.median(per_call) * 1000:.1f} ms a call",
            )
        )
    return results


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    n = args.conversations or (QUICK if args.quick else FULL)
    load = os.getloadavg()[0]
    log(f"recreating database {PROMPTS_DB}")
    database.django_setup(database.recreate(PROMPTS_DB))
    from django.db import connections

    try:
        results = run(n)
        text = (
            f"# bench/prompts — {datetime.now():%Y-%m-%d %H:%M}\n\n"
            f"PostgreSQL {database.server_version()}; Python {platform.python_version()}; {os.cpu_count()} CPUs; "
            f"{n:,} conversations; 1-min load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end\n\n"
            + table(results)
            + "\n"
        )
        publish(text, RESULTS_FILE)
    finally:
        connections.close_all()
        if args.keep:
            log(f"kept database {PROMPTS_DB}")
        else:
            database.drop(PROMPTS_DB)
            log(f"dropped database {PROMPTS_DB}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
