"""Benchmarks 2–5: bulk inserts into `leads` with and without stats maintenance, updates, the seed's trigger."""

import random
import statistics
import uuid
from collections.abc import Callable, Iterator
from time import perf_counter

from django.db import connection, transaction

from bench.leads_data import (
    COPY_COLUMNS,
    copy_columns_check,
    copy_rows,
    dataset_fresh,
    dataset_row_state,
    execute,
    lead_objects,
    lead_rows,
    leads_reset,
    seed_trigger_installed,
    single_updates,
    stats_check,
    stats_triggers_disabled,
)
from bench.log import log
from bench.report import Result, overhead_pct
from clients.models import Client
from leads.models import Lead

INSERT_ROWS = 100_000
INSERT_RUNS = 3
UPDATES = 10_000
HOT_CHANGES = 1_000
UPDATE_RUNS = 3
SEED_TRIGGER_ROWS = 10_000
ACCEPTABLE_OVERHEAD_PCT = 10.0

NOTES_UPDATE = "UPDATE leads SET notes = %s WHERE id = %s"
STATUS_UPDATE = "UPDATE leads SET contact_status = %s WHERE id = %s"


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s"


def checks_summary(checks: list[str]) -> str:
    bad = [c for c in checks if c != "OK"]
    return f"stats == recount: OK ×{len(checks)}" if not bad else f"stats == recount: {'; '.join(bad)}"


def alternating(runs: int) -> Iterator[tuple[int, bool]]:
    """(run, triggers on?) for each half of each run: on first in even runs, off first in odd ones."""
    for i in range(runs):
        for triggers_on in (True, False) if i % 2 == 0 else (False, True):
            yield i, triggers_on


def on_off_results(label: str, n: int, on: list[float], off: list[float], notes: tuple[str, str]) -> list[Result]:
    """The pair of rows for a measurement taken with the stats triggers on and off."""
    return [Result(f"{label} ON", n, on, notes[0]), Result(f"{label} OFF", n, off, notes[1])]


def copy_fresh(label: str, rows_n: int, triggers_on: bool = True) -> tuple[float, str]:
    """A COPY of `rows_n` leads into a new dataset of an emptied table; (seconds, stats check)."""
    leads_reset()
    dataset = dataset_fresh(f"{label}-{uuid.uuid4().hex[:8]}")
    rows = lead_rows(dataset.id, rows_n)
    if triggers_on:
        return copy_rows("leads", rows), stats_check(dataset.id)
    with stats_triggers_disabled():
        return copy_rows("leads", rows), "not checked (triggers off)"


def bench_copy_overhead() -> list[Result]:
    """Benchmark 2: COPY 100k leads with the stats triggers on vs off, alternating, after one warm-up."""
    copy_fresh("warmup", INSERT_ROWS)
    on: list[float] = []
    off: list[float] = []
    checks: list[str] = []
    for i, triggers_on in alternating(INSERT_RUNS):
        seconds, check = copy_fresh(f"copy-{i}", INSERT_ROWS, triggers_on)
        (on if triggers_on else off).append(seconds)
        if triggers_on:
            checks.append(check)
        log(f"  COPY {INSERT_ROWS:,} triggers {'on ' if triggers_on else 'off'}: {seconds:.3f} s {check}")
    with_, without = statistics.median(on), statistics.median(off)
    overhead = overhead_pct(with_, without)
    verdict = "PASS" if overhead <= ACCEPTABLE_OVERHEAD_PCT else "FAIL"
    return on_off_results(
        f"COPY {INSERT_ROWS // 1000}k leads, stats triggers",
        INSERT_ROWS,
        on,
        off,
        (
            f"{rate(INSERT_ROWS, with_)}; {checks_summary(checks)}",
            f"{rate(INSERT_ROWS, without)}; stats overhead {overhead:+.1f}% "
            f"(acceptance ≤ {ACCEPTABLE_OVERHEAD_PCT:.0f}%: {verdict})",
        ),
    )


def bench_insert_select() -> Result:
    """Benchmark 3a: COPY into a temp table, then INSERT … SELECT … ON CONFLICT DO NOTHING, one transaction."""
    leads_reset()
    dataset = dataset_fresh(f"insert-select-{uuid.uuid4().hex[:8]}")
    rows = lead_rows(dataset.id, INSERT_ROWS)
    columns = ", ".join(COPY_COLUMNS)
    started = perf_counter()
    with transaction.atomic():
        execute("CREATE TEMP TABLE bench_leads_stage (LIKE leads INCLUDING DEFAULTS) ON COMMIT DROP")
        staged = copy_rows("bench_leads_stage", rows)
        insert_started = perf_counter()
        execute(f"INSERT INTO leads ({columns}) SELECT {columns} FROM bench_leads_stage ON CONFLICT DO NOTHING")
        inserted = perf_counter() - insert_started
        commit_started = perf_counter()
    total = perf_counter() - started
    commit = perf_counter() - commit_started
    return Result(
        f"temp COPY + INSERT…SELECT {INSERT_ROWS // 1000}k, triggers ON",
        INSERT_ROWS,
        [total],
        f"{rate(INSERT_ROWS, total)}; COPY→temp {staged:.2f} s + INSERT {inserted:.2f} s + commit (FK checks) "
        f"{commit:.2f} s; ON CONFLICT DO NOTHING; stats == recount: {stats_check(dataset.id)}",
    )


def bench_bulk_create() -> Result:
    """Benchmark 3b: the ORM's bulk_create in batches of 5,000 (20 statements, so 20 trigger runs)."""
    leads_reset()
    dataset = dataset_fresh(f"bulk-create-{uuid.uuid4().hex[:8]}")
    objects = lead_objects(lead_rows(dataset.id, INSERT_ROWS))
    started = perf_counter()
    Lead.objects.bulk_create(objects, batch_size=5000)
    seconds = perf_counter() - started
    return Result(
        f"bulk_create {INSERT_ROWS // 1000}k (batch 5000), triggers ON",
        INSERT_ROWS,
        [seconds],
        f"{rate(INSERT_ROWS, seconds)}; stats == recount: {stats_check(dataset.id)}; Python-bound: Django "
        "compiles and psycopg binds client-side ~40 params × 5,000 rows per statement",
    )


RowState = tuple[int, int, int]


def dataset_writes(dataset_id: uuid.UUID, action: Callable[[], float]) -> tuple[float, RowState, RowState]:
    """Runs `action` between two looks at the dataset row (xmin, n_tup_upd, hot_leads)."""
    before = dataset_row_state(dataset_id)
    seconds = action()
    return seconds, before, dataset_row_state(dataset_id)


def bench_updates() -> list[Result]:
    """Benchmark 4: single-row UPDATEs write the dataset row only when a counted column changes."""
    leads_reset()
    dataset = dataset_fresh(f"updates-{uuid.uuid4().hex[:8]}")
    copy_rows("leads", lead_rows(dataset.id, INSERT_ROWS))
    execute("VACUUM ANALYZE leads")
    ids = [lead_id for (lead_id,) in execute("SELECT id FROM leads WHERE contact_status = 'READY'")]
    random.Random(42).shuffle(ids)
    notes_ids, hot_ids, timing_ids = ids[:UPDATES], ids[UPDATES : UPDATES + HOT_CHANGES], ids[UPDATES + HOT_CHANGES :]

    seconds, before, after = dataset_writes(dataset.id, lambda: single_updates(NOTES_UPDATE, notes_ids, "x"))
    unchanged = before[0] == after[0] and after[1] == before[1]
    notes_result = Result(
        f"{UPDATES:,} notes UPDATEs: dataset row untouched?",
        UPDATES,
        [seconds],
        f"datasets xmin {before[0]}→{after[0]}, n_tup_upd +{after[1] - before[1]}: "
        f"{'OK (not written)' if unchanged else 'WRITTEN'}",
    )
    seconds, before, after = dataset_writes(dataset.id, lambda: single_updates(STATUS_UPDATE, hot_ids, "HOT"))
    written = before[0] != after[0] and after[1] - before[1] == HOT_CHANGES and after[2] - before[2] == HOT_CHANGES
    hot_result = Result(
        f"{HOT_CHANGES:,} READY→HOT UPDATEs: dataset row written?",
        HOT_CHANGES,
        [seconds],
        f"xmin {before[0]}→{after[0]}, n_tup_upd +{after[1] - before[1]}, hot_leads +{after[2] - before[2]}: "
        f"{'OK (written each time)' if written else 'UNEXPECTED'}; stats == recount: {stats_check(dataset.id)}",
    )
    return [notes_result, hot_result, *update_overhead(timing_ids)]


def update_overhead(ids: list[uuid.UUID]) -> list[Result]:
    """10k single-row notes UPDATEs with the stats triggers on vs off, alternating, distinct rows per run."""
    on: list[float] = []
    off: list[float] = []
    batches = [ids[i * UPDATES : (i + 1) * UPDATES] for i in range(2 * UPDATE_RUNS)]
    for i, triggers_on in alternating(UPDATE_RUNS):
        batch = batches.pop()
        if triggers_on:
            on.append(single_updates(NOTES_UPDATE, batch, f"run {i}"))
        else:
            with stats_triggers_disabled():
                off.append(single_updates(NOTES_UPDATE, batch, f"run {i}"))
    with_, without = statistics.median(on), statistics.median(off)
    return on_off_results(
        f"{UPDATES // 1000}k single-row UPDATEs, triggers",
        UPDATES,
        on,
        off,
        (
            f"{with_ / UPDATES * 1e6:.0f} µs/update",
            f"{without / UPDATES * 1e6:.0f} µs/update; stats overhead {overhead_pct(with_, without):+.1f}% "
            f"({(with_ - without) / UPDATES * 1e6:+.0f} µs/update)",
        ),
    )


def bench_seed_trigger() -> list[Result]:
    """Benchmark 5: the seed's row trigger (a full recount per row) vs ours, on a 10k COPY."""
    ours, ours_check = copy_fresh("ours-10k", SEED_TRIGGER_ROWS)
    leads_reset()
    dataset = dataset_fresh(f"seed-trigger-{uuid.uuid4().hex[:8]}")
    rows = lead_rows(dataset.id, SEED_TRIGGER_ROWS)
    with seed_trigger_installed():
        seed = copy_rows("leads", rows)
    check = stats_check(dataset.id)
    estimate_min = seed * (INSERT_ROWS / SEED_TRIGGER_ROWS) ** 2 / 60
    return [
        Result(
            f"COPY {SEED_TRIGGER_ROWS // 1000}k, our statement triggers",
            SEED_TRIGGER_ROWS,
            [ours],
            f"{rate(SEED_TRIGGER_ROWS, ours)}; stats == recount: {ours_check}",
        ),
        Result(
            f"COPY {SEED_TRIGGER_ROWS // 1000}k, seed's row trigger (replaced)",
            SEED_TRIGGER_ROWS,
            [seed],
            f"{seed / ours:.0f}× ours; stats == recount: {check}; each row recounts the whole dataset, "
            f"so time grows with rows²: 100k not run (≈{estimate_min:.0f} min by extrapolation)",
        ),
    ]


def quiesce() -> None:
    """Less noise: vacuum what creating the clients churned (mostly the catalogs) so autovacuum has
    nothing left to do, and keep autovacuum off `leads` so it cannot start in the middle of a run."""
    started = perf_counter()
    execute("VACUUM (ANALYZE)")
    execute("ALTER TABLE leads SET (autovacuum_enabled = false)")
    log(f"VACUUM (ANALYZE) of the database: {perf_counter() - started:.1f} s; autovacuum off for leads")


def run(client: Client) -> list[Result]:
    connection.set_tenant(client)
    copy_columns_check()
    quiesce()
    results: list[Result] = []
    log(f"COPY {INSERT_ROWS:,} leads ×{INSERT_RUNS} with and without stats triggers (+1 warm-up)")
    results += bench_copy_overhead()
    log("temp table + INSERT … SELECT")
    results.append(bench_insert_select())
    log("bulk_create")
    results.append(bench_bulk_create())
    log("single-row updates")
    results += bench_updates()
    log(f"seed's row-level trigger on a {SEED_TRIGGER_ROWS:,}-row COPY (slow)")
    results += bench_seed_trigger()
    leads_reset()
    execute("ALTER TABLE leads RESET (autovacuum_enabled)")
    return results
