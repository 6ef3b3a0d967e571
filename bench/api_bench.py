"""bench/api: GET /api/leads/ at a million leads, server time beside the raw SQL of the same requests.

    bench/api [--leads N] [--quick] [--runs R] [--keep] [--reuse]

One client (own database dbr_bench_api) with N leads (default 1,000,000) in 10 datasets, seeded with COPY
by bench/dashboard's seeder (leads only, no messages). Then, through Django's test client with a token
(`Authorization: Token …`: the whole request, tenant and token look-ups, throttle in Redis, selector,
serializer, JSON), p50/p95 over R runs after 3 warm-ups of:

  1. the first page                       /api/leads/
  2. a filtered page                      /api/leads/?dataset=…&status=HOT
  3. a page deep in the cursor            /api/leads/?cursor=<the row half way down>

beside the raw SQL of the same request: every statement it ran, replayed on a plain cursor, and its main
query alone. Goal: p95 < 150 ms and within 2× of raw SQL. A last row times the lightest endpoint with the
same token, throttle and middleware (an empty /api/notifications/): the stack's fixed cost beyond its SQL.
Needs PostgreSQL and Redis (database DBR_BENCH_REDIS_URL, default redis://127.0.0.1:6379/5); writes
bench/results/api.md.
"""

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path

from bench import database
from bench.log import log

API_DB = "dbr_bench_api"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "api.md"
SLUG = "benchapi"
GOAL = 0.150


def run(n_leads: int, runs: int) -> str:
    from django.db import connection
    from django.test import Client as TestClient
    from django.utils.http import urlencode
    from django_tenants.utils import schema_context

    from bench import dashboard_bench
    from clients.api_tokens import api_token_create
    from clients.models import ApiToken, Client, User
    from clients.services import client_create
    from leads.models import Dataset, Lead

    client_obj = Client.objects.filter(slug=SLUG).first()
    if client_obj is None:
        client_obj = client_create(name="Bench API Ltd", slug=SLUG)
        connection.set_tenant(client_obj)
        dashboard_bench.MESSAGES_PER_LEAD = 0  # the API's lead pages read leads only
        datasets, seed_seconds = dashboard_bench.seed(n_leads, datetime.now(UTC))
        with schema_context("public"):
            User.objects.create_user(
                "owner@bench.example", "bench-password-1", client=client_obj, role=User.Role.COMPANY_OWNER
            )
    else:  # --reuse: the database a --keep run (or an interrupted one) left
        connection.set_tenant(client_obj)
        datasets, seed_seconds = list(Dataset.objects.order_by("name").values_list("pk", flat=True)), 0.0
        n_leads = Lead.objects.count()
        log(f"reusing {n_leads:,} leads")
    with schema_context("public"):
        owner = User.objects.get(email="owner@bench.example")
        ApiToken.objects.filter(user=owner).delete()  # one token, so the throttle and look-up see one row
        key = api_token_create(user=owner, name="bench").key
    connection.set_tenant(client_obj)
    api = TestClient(HTTP_AUTHORIZATION=f"Token {key}")
    dashboard_bench.HOST = {"HTTP_HOST": f"{SLUG}.localhost"}
    deep = dashboard_bench.deep_cursor(n_leads // 2)
    cases = [
        ("First page", "/api/leads/"),
        ("Filtered page (dataset + HOT)", "/api/leads/?" + urlencode({"dataset": datasets[3], "status": "HOT"})),
        ("Deep in the cursor (half way)", "/api/leads/?" + urlencode({"cursor": deep})),
    ]
    rows, notes = [], []
    for label, path in cases:
        log(f"timing {label}")
        times, statements = dashboard_bench.timed_request(api, path, runs)
        raw_all = dashboard_bench.raw_times(statements, runs)
        raw_main = dashboard_bench.raw_times([dashboard_bench.main_query(statements, "table")], runs)
        main_sql = " ".join(dashboard_bench.main_query(statements, "table")[0].split())
        notes.append(f"- {label}: `{main_sql[:220]}…`")
        rows.append(dashboard_bench.result_row(label, times, statements, raw_all, raw_main, GOAL))
    label = "Floor: GET /api/notifications/ (nothing to list)"
    rows.append(dashboard_bench.floor_measure(api, "/api/notifications/", label, runs))
    seeded = f"seeded with COPY in {seed_seconds:.0f} s" if seed_seconds else "seeded by an earlier run"
    header = (
        f"# bench/api\n\n`GET /api/leads/` with a token, {n_leads:,} leads in {dashboard_bench.DATASETS} datasets "
        f"({seeded}); {runs} runs each after 3 warm-ups; "
        f"PostgreSQL {database.server_version()}.\n\n" + dashboard_bench.TABLE_HEAD
    )
    return header + "\n".join(rows) + "\n\n" + "\n".join(notes) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 leads and 20 runs")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the dbr_bench_api database")
    parser.add_argument("--reuse", action="store_true", help="time the data a --keep run left (implies --keep)")
    args = parser.parse_args()
    n_leads, runs = (100_000, 20) if args.quick else (args.leads, args.runs)
    os.environ["REDIS_URL"] = os.environ.get("DBR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
    os.environ["DBR_API_RATE"] = "1000000/s"  # the bench times the API, not its throttle's refusals
    from bench.dashboard_bench import timed_on

    timed_on(API_DB, lambda: run(n_leads, runs), RESULTS_FILE, reuse=args.reuse, keep=args.keep)


if __name__ == "__main__":
    main()
