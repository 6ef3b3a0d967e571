"""bench/import: the lead import (upload_receive + lead_import) against a raw COPY of the same rows.

    bench/import [--rows 100000,1000000] [--runs 3] [--quick] [--keep]

Generates messy UK lead CSVs (streamed to a temp dir), then on its own database (dbr_bench_import) times the
full import with 1 and with 2 parser processes, each in a child process whose memory is watched, and a raw
psycopg COPY of the same rows, normalised beforehand, into the same `leads` table. Writes
bench/results/import.md. The child mode (`--one`) is internal.
"""

import argparse
import csv
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from math import floor, gcd
from pathlib import Path
from statistics import median
from time import perf_counter

from bench import database
from bench.log import log
from bench.procs import Sampler, process_tree
from bench.report import Result, publish, table

IMPORT_DB = "dbr_bench_import"
# Import progress only; flushed at the start and the end.
REDIS_URL = os.environ.get("BENCH_IMPORT_REDIS_URL", "redis://127.0.0.1:6379/10")
CLIENT_SLUG = "benchimport"
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "import.md"
REPO = Path(__file__).resolve().parent.parent
FULL_ROWS = (100_000, 1_000_000)
QUICK_ROWS = (20_000,)
GOAL_RATIO = 1 / 3  # the import reaches at least a third of the COPY rate in every run
GOAL_RATIO_LARGE = 1 / 2  # and at least half of it at a million rows
GOAL_MEMORY_MB = 300  # for the 1M-row file
MEMORY_GOAL_ROWS = 1_000_000
RESULT_MARK = "BENCH-RESULT "

# ---------------------------------------------------------------------------------------------------
# Generating a realistic file

# 07xxx blocks that phonenumbers (9.0) calls valid mobiles throughout: 076xx are pagers and personal
# numbers, 07624 is the Isle of Man, 07700 900xxx is Ofcom's fiction range, and part of 07911 is
# unallocated. `numbers_check` confirms a sample with the app's own judge before anything is generated.
MOBILE_BLOCKS = ((7400, 7599), (7701, 7910), (7912, 7999))
_BLOCKS = [block for low, high in MOBILE_BLOCKS for block in range(low, high + 1)]
_SPACE = len(_BLOCKS) * 1_000_000
_STRIDE = 2_654_435_761  # index → number is a bijection mod _SPACE: every row gets its own number
assert gcd(_STRIDE, _SPACE) == 1

FIRST_NAMES = (
    "Oliver George Harry Jack Jacob Noah Charlie Thomas Oscar William James Leo Alfie Henry Archie Joshua Freddie "
    "Olivia Amelia Isla Ava Emily Sophie Grace Lily Mia Ella Poppy Jessica Isabella Chloe Evie Sophia Charlotte "
    "Margaret Susan Linda Patricia Barbara Janet Carol Gareth Rhys Dylan Ffion Cerys Aoife Niamh Ciarán Mohammed "
    "Aisha Priya Arjun Fatima Wei Siân Zoë Seán Renée Chloé"
).split()
LAST_NAMES = [
    name.replace("_", " ")
    for name in (
        "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright Walker "
        "White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill Ward Morris "
        "Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young "
        "Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan "
        "Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali "
        "Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Fisher Stevens "
        "O'Brien O'Neill MacDonald Llewellyn Ní_Bhriain Fernández-López"
    ).split()
]
EMAIL_DOMAINS = (
    "gmail.com hotmail.co.uk btinternet.com yahoo.co.uk outlook.com sky.com icloud.com live.co.uk aol.com "
    "virginmedia.com"
).split()
OUTWARD_CODES = (
    "SW1A M1 B33 CR2 DN55 LS1 EH1 G2 CF10 BS1 NE1 L1 S1 NG1 OX1 CB2 BT1 AB10 PL1 EX1 LL57 SA1 YO1 TR1 W1A EC1A N1 E14"
).split()
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
SOURCES = ("Facebook", "Google Ads", "Website", "Referral", "Leaflet", "Comparison site")
NOTES = ("", "", "", "", "Interested in solar, call after 5pm", "Wants a quote for 4kW", "Has a south-facing roof")
NOTES += ('Asked about the "battery" option, prefers email', "Renting — check with landlord", "Call back in spring")
HEADER = ["First Name", "Last Name", "Mobile", "Email", "Postcode", "Enquiry Date", "Notes", "Source"]


def _mobile(i: int) -> str:
    """The i-th row's own mobile number as a national significant number, e.g. '7911123456'."""
    index = (i * _STRIDE + 12_345) % _SPACE
    return f"{_BLOCKS[index // 1_000_000]}{index % 1_000_000:06d}"


def _landline(i: int) -> str:
    """A London number (020 3/7/8 …), unique per row: accepted, but not SMS-capable."""
    return f"20{'378'[i % 3]}{(i * 7919) % 10_000_000:07d}"


def _mobile_text(nsn: str, rng: random.Random) -> str:
    """The number written the ways people and spreadsheets write it."""
    r = rng.random()
    if r < 0.30:
        return f"0{nsn[:4]} {nsn[4:]}"  # 07911 123456
    if r < 0.50:
        return f"+44{nsn}"  # +447911123456
    if r < 0.60:
        return f"0{nsn}"  # 07911123456
    if r < 0.70:
        return f"+44 (0){nsn[:4]}-{nsn[4:]}"  # +44 (0)7911-123456
    if r < 0.80:
        return f"44{nsn}"  # 447911123456
    if r < 0.88:
        return nsn  # 7911123456 (Excel ate the 0)
    if r < 0.95 and not nsn.endswith("0"):  # trailing zeros would read as digits Excel lost (rejected)
        return f"4.4{nsn}E+11"  # 4.47911123456E+11 (Excel's float, all digits kept)
    return f"0{nsn[:4]} {nsn[4:7]} {nsn[7:]}"  # 07911 123 456


def _landline_text(nsn: str, rng: random.Random) -> str:
    return rng.choice((f"0{nsn[:2]} {nsn[2:6]} {nsn[6:]}", f"+44 {nsn[:2]} {nsn[2:6]} {nsn[6:]}", f"0{nsn}"))


def _invalid_phone(i: int, nsn: str, rng: random.Random) -> str:
    return rng.choice(
        (
            f"0{nsn[:-1]}",  # a digit short
            f"07700 900{i % 1000:03d}",  # Ofcom's drama range
            f"4.{nsn[:5]}E+11",  # Excel's float with digits lost
            "ask for mobile",
            f"{i % 100000:05d}",
            f"0{nsn}{i % 10}",  # a digit too many
        )
    )


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _email(first: str, last: str, i: int, rng: random.Random) -> str:
    local = rng.choice(
        (
            f"{_ascii(first)}.{_ascii(last)}",
            f"{_ascii(first)}{_ascii(last)}{i % 97}",
            f"{_ascii(first)[:1]}{_ascii(last)}",
            f"{_ascii(last)}.{_ascii(first)}{i % 1000}",
        )
    )
    address = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    return address.upper() if rng.random() < 0.03 else address


def _bad_email(first: str, last: str, rng: random.Random) -> str:
    name = f"{_ascii(first)}.{_ascii(last)}"
    return rng.choice(
        (f"{name}@", f"{name}.gmail.com", f"{name}@@gmail.com", f"{_ascii(first)} {_ascii(last)}@sky.com")
    )


def _postcode(rng: random.Random) -> str:
    outward = rng.choice(OUTWARD_CODES)
    inward = f"{rng.randrange(10)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
    r = rng.random()
    if r < 0.7:
        return f"{outward} {inward}"
    if r < 0.85:
        return f"{outward}{inward}".lower()
    if r < 0.95:
        return f" {outward}{inward} "
    return ""


_EPOCH = date(2022, 1, 1)
_EXCEL_EPOCH = date(1899, 12, 30)


def _inquiry_date(rng: random.Random) -> str:
    day = _EPOCH + timedelta(days=rng.randrange(3 * 365))
    r = rng.random()
    if r < 0.40:
        return f"{day:%d/%m/%Y}"  # 03/04/2024
    if r < 0.60:
        return day.isoformat()  # 2024-04-03
    if r < 0.70:
        return f"{day.day} {day:%B %Y}"  # 3 April 2024
    if r < 0.78:
        return f"{day:%d-%m-%y}"  # 03-04-24
    if r < 0.86:
        return f"{day.isoformat()} {rng.randrange(8, 20):02d}:{rng.randrange(60):02d}:00"  # from a CRM
    if r < 0.93:
        return str((day - _EXCEL_EPOCH).days)  # an Excel serial: 45385
    return ""


@dataclass
class Generated:
    path: Path
    rows: int
    bytes: int = 0
    seconds: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)


def generate_csv(path: Path, rows: int, seed: int = 42) -> Generated:
    """Writes `rows` leads as Excel would export them (UTF-8 with BOM); one row at a time, nothing kept but
    the last few thousand numbers (for duplicates). About 2% of rows are bad, 1% repeat an earlier number."""
    rng = random.Random(seed)
    recent: deque[str] = deque(maxlen=5000)
    kinds = dict.fromkeys(("good", "landline", "duplicate", "bad phone", "bad email", "missing name"), 0)
    started = perf_counter()
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            nsn = _mobile(i)
            r = rng.random()
            email = _email(first, last, i, rng)
            if r < 0.008:
                kind, phone = "bad phone", _invalid_phone(i, nsn, rng)
            elif r < 0.014:
                kind, phone, email = "bad email", _mobile_text(nsn, rng), _bad_email(first, last, rng)
            elif r < 0.020:
                kind, phone = "missing name", _mobile_text(nsn, rng)
                if rng.random() < 0.5:
                    first = rng.choice(("", " ", "N/A"))
                else:
                    last = ""
            elif r < 0.030 and recent:
                kind, phone = "duplicate", _mobile_text(rng.choice(recent), rng)
            elif r < 0.035:
                kind, phone = "landline", _landline_text(_landline(i), rng)
            else:
                kind, phone = "good", _mobile_text(nsn, rng)
                recent.append(nsn)
            kinds[kind] += 1
            if rng.random() < 0.02:
                first = first.upper()
            writer.writerow(
                [first, last, phone, email, _postcode(rng), _inquiry_date(rng), rng.choice(NOTES), rng.choice(SOURCES)]
            )
    return Generated(path, rows, path.stat().st_size, perf_counter() - started, kinds)


def numbers_check() -> None:
    """The generator's numbers are what they claim, by the app's own judge (leads.phones)."""
    from leads.phones import normalise_phone

    rng = random.Random(7)
    for i in rng.sample(range(_SPACE), 3000):
        nsn = _mobile(i)
        for text in (_mobile_text(nsn, rng), f"0{nsn}"):
            result = normalise_phone(text)
            if result.e164 != f"+44{nsn}" or not result.sms_capable:
                raise RuntimeError(f"generator: {text!r} is not a valid UK mobile to the app: {result}")
        landline = normalise_phone(_landline_text(_landline(i), rng))
        if landline.e164 is None or landline.sms_capable:
            raise RuntimeError(f"generator: landline {_landline(i)} judged {landline}")
        bad = _invalid_phone(i, nsn, rng)
        if normalise_phone(bad).e164 is not None:
            raise RuntimeError(f"generator: {bad!r} should be rejected")


# ---------------------------------------------------------------------------------------------------
# The same rows, normalised once (outside any timing), for the raw COPY


def _copy_columns() -> tuple[str, ...]:
    """Every NOT NULL column of `leads`: the import's own lead columns, then the rest a new lead starts with."""
    from leads.importing.staging import LEAD_COLUMNS

    return ("id", "dataset_id", *LEAD_COLUMNS, "row_number", "contact_status", *_NEW_LEAD_FLAG_COLUMNS)


_NEW_LEAD_FLAG_COLUMNS = ("archived", "manual_mode", "call_booked", "total_messages", "is_duplicate")
_NEW_LEAD_FLAGS = (False, False, False, 0, False)
DATASET_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"  # replaced by each COPY run's fresh dataset
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value) -> str:
    """One field in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).translate(_ESCAPES)


@dataclass
class Normalised:
    path: Path
    created: int  # accepted rows, first of each number: what the import creates
    skipped: int  # later rows with a number seen before in the file
    rejected: int
    seconds: float


def normalise_file(source: Path, target: Path) -> Normalised:
    """Runs the import's own validator (two processes) over the file and writes the leads it would create."""
    from leads.importing.mapping import guess_mapping
    from leads.importing.options import row_validator
    from leads.importing.reading import open_table
    from leads.importing.rows import iter_results
    from leads.importing.staging import lead_values
    from leads.services import default_template

    started = perf_counter()
    table_file = open_table(source, filename=source.name)
    mapping = guess_mapping(table_file.headers)
    validator = row_validator(headers=table_file.headers, mapping=mapping, options=default_template())
    seen: set[str] = set()
    created = skipped = rejected = 0
    with open(target, "w", encoding="utf-8", newline="\n") as out:
        for result in iter_results(table_file, validator, workers=2):
            if result.error:
                rejected += 1
                continue
            v = result.values
            if v["phone_number"] in seen:
                skipped += 1
                continue
            seen.add(v["phone_number"])
            created += 1
            row = (uuid.uuid4(), DATASET_PLACEHOLDER, *lead_values(v), result.row_number, "READY", *_NEW_LEAD_FLAGS)
            out.write("\t".join(_copy_text(value) for value in row) + "\n")
    return Normalised(target, created, skipped, rejected, perf_counter() - started)


def _with_dataset(template: Path, target: Path, dataset_id: uuid.UUID) -> None:
    placeholder, replacement = DATASET_PLACEHOLDER.encode(), str(dataset_id).encode()
    with open(template, "rb") as source, open(target, "wb") as out:
        for lines in iter(lambda: source.readlines(1 << 20), []):
            out.write(b"".join(lines).replace(placeholder, replacement))


def copy_run(normalised: Normalised, workdir: Path, label: str) -> tuple[float, str]:
    """A fresh dataset, an emptied table, then COPY of the normalised file; (seconds, stats check)."""
    from django.db import connection

    from bench.leads_data import dataset_fresh, execute, leads_reset, stats_check

    dataset = dataset_fresh(f"copy-{label}-{uuid.uuid4().hex[:8]}")
    path = workdir / "copy-run.tsv"
    _with_dataset(normalised.path, path, dataset.id)
    leads_reset()
    with connection.cursor() as cursor, open(path, "rb") as source:
        started = perf_counter()
        with cursor.copy(f"COPY leads ({', '.join(_copy_columns())}) FROM STDIN") as copy:
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        seconds = perf_counter() - started
    path.unlink()
    (copied,) = execute("SELECT count(*) FROM leads WHERE dataset_id = %s", [dataset.id])[0]
    check = stats_check(dataset.id)
    if copied != normalised.created:
        check += f"; copied {copied:,} != {normalised.created:,}"
    return seconds, check


# ---------------------------------------------------------------------------------------------------
# One import in a child process (`--one`), its memory watched from outside


def one_import(path: Path, workers: int, label: str) -> dict:
    """Child process: a fresh dataset, then upload_receive + lead_import, timed; prints a JSON result."""
    import resource

    database.django_setup(os.environ["DATABASE_URL"], migrate=False)
    from django.db import connection

    from bench.leads_data import stats_check
    from clients.models import Client
    from clients.storage import bucket_storage
    from leads.importing.mapping import upload_mapping
    from leads.importing.receive import upload_receive
    from leads.importing.run import lead_import
    from leads.services import dataset_create

    connection.set_tenant(Client.objects.get(slug=CLIENT_SLUG))
    dataset = dataset_create(name=f"import-{label}-{uuid.uuid4().hex[:8]}")
    sql_times = SqlTimes()
    last_progress = [0.0]

    def on_progress(done: int, total: int) -> None:  # its last call ends the reading phase
        last_progress[0] = perf_counter()

    started = perf_counter()
    with open(path, "rb") as fileobj:
        upload = upload_receive(fileobj=fileobj, filename=path.name, uploaded_by=None, dataset=dataset)
    received = perf_counter()
    with connection.execute_wrapper(sql_times):
        summary = lead_import(
            upload=upload,
            dataset=dataset,
            mapping=upload_mapping(upload),
            workers=workers,
            on_progress=on_progress,
        )
    finished = perf_counter()
    check = stats_check(dataset.id)
    storage = bucket_storage("csv_uploads")
    storage.delete(upload.file_url)
    if summary.rejected_file:
        bucket_storage("exports").delete(summary.rejected_file)
    return {
        "receive": received - started,
        "import": finished - received,
        "total": finished - started,
        "rows": summary.rows,
        "created": summary.created,
        "skipped": summary.skipped,
        "merged": summary.merged,
        "rejected": summary.rejected,
        "not_sms_capable": summary.not_sms_capable,
        "stats": check,
        "phases": {
            "read": last_progress[0] - received,
            "classify": sql_times.seconds["classify"],
            "insert": sql_times.seconds["insert"],
            "rest": finished - last_progress[0] - sql_times.seconds["classify"] - sql_times.seconds["insert"],
        },
        "self_hwm_kb": _status_kb(os.getpid(), "VmHWM"),
        "workers_maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


class SqlTimes:
    """Django execute wrapper: seconds in the import's classification UPDATEs and in its INSERTs of leads and events."""

    def __init__(self):
        self.seconds = {"classify": 0.0, "insert": 0.0, "other": 0.0}

    def __call__(self, execute, sql, params, many, context):
        started = perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            inserting = "INSERT INTO leads" in sql or "INSERT INTO lead_events" in sql
            phase = "insert" if inserting else "classify" if "import_rows" in sql else "other"
            self.seconds[phase] += perf_counter() - started


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory(Sampler):
    """Samples a process tree (the import and its parser workers) every 0.2 s: peak summed RSS and PSS.

    RSS counts pages the forked workers share with their parent once per process; PSS splits them, so the
    PSS sum is what the tree really occupies."""

    interval = 0.2

    def __init__(self, pid: int):
        super().__init__()
        self.pid = pid
        self.peak_rss_kb = self.peak_pss_kb = self.max_processes = 0

    def sample(self) -> None:
        pids = process_tree(self.pid)
        self.max_processes = max(self.max_processes, len(pids))
        self.peak_rss_kb = max(self.peak_rss_kb, sum(_status_kb(pid, "VmRSS") for pid in pids))
        self.peak_pss_kb = max(self.peak_pss_kb, sum(_pss_kb(pid) for pid in pids))


@dataclass
class ImportRun:
    seconds: float
    receive: float
    import_: float
    counts: dict
    main_mb: float
    worker_mb: float
    tree_rss_mb: float
    tree_pss_mb: float
    processes: int


def import_run(path: Path, workers: int, label: str) -> ImportRun:
    command = [
        sys.executable,
        "-m",
        "bench.import_bench",
        "--one",
        str(path),
        "--workers",
        str(workers),
        "--label",
        label,
    ]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    with TreeMemory(child.pid) as memory:
        output, _ = child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"import child exited {child.returncode}")
    line = next(line for line in reversed(output.splitlines()) if line.startswith(RESULT_MARK))
    data = json.loads(line[len(RESULT_MARK) :])
    return ImportRun(
        data["total"],
        data["receive"],
        data["import"],
        data,
        data["self_hwm_kb"] / 1024,
        data["workers_maxrss_kb"] / 1024 if workers > 1 else 0.0,
        memory.peak_rss_kb / 1024,
        memory.peak_pss_kb / 1024,
        memory.max_processes,
    )


# ---------------------------------------------------------------------------------------------------
# The benchmark


def rate(rows: int, seconds: float) -> float:
    return rows / seconds


def _ratio_verdict(ratio: float, rows: int) -> str:
    verdicts = [f"goal ≥ 1/3: {'PASS' if ratio >= GOAL_RATIO else 'FAIL'}"]
    if rows >= MEMORY_GOAL_ROWS:
        verdicts.append(f"goal ≥ 1/2 at this size: {'PASS' if ratio >= GOAL_RATIO_LARGE else 'FAIL'}")
    return ", ".join(verdicts)


def _counts_check(run: ImportRun, expected: Normalised, rows: int) -> str:
    c = run.counts
    got = (c["rows"], c["created"], c["skipped"], c["rejected"], c["merged"])
    want = (rows, expected.created, expected.skipped, expected.rejected, 0)
    verdict = "OK" if got == want and c["stats"] == "OK" else f"MISMATCH {got} != {want}; stats {c['stats']}"
    return verdict


def _phases(runs: list[ImportRun]) -> str:
    """Where lead_import's time went (medians): reading = parse, judge and COPY into the temp table."""
    names = {
        "read": "read+judge+temp COPY",
        "classify": "classify",
        "insert": "INSERT leads",
        "rest": "commit etc.",
    }
    return ", ".join(f"{label} {median(r.counts['phases'][key] for r in runs):.2f} s" for key, label in names.items())


def bench_size(rows: int, runs: int, workdir: Path) -> list[Result]:
    from bench.leads_data import leads_reset

    csv_path = workdir / f"leads-{rows}.csv"
    log(f"generating {rows:,} rows → {csv_path}")
    generated = generate_csv(csv_path, rows)
    log(f"  {generated.bytes / 1e6:.1f} MB in {generated.seconds:.1f} s; kinds {generated.kinds}")
    log("normalising them once with the import's validator (for the raw COPY; not timed)")
    normalised = normalise_file(csv_path, workdir / f"leads-{rows}-normalised.tsv")
    log(
        f"  {normalised.created:,} leads, {normalised.skipped:,} in-file duplicates, "
        f"{normalised.rejected:,} rejected ({normalised.seconds:.1f} s)"
    )

    imports: dict[int, list[ImportRun]] = {1: [], 2: []}
    copies: list[float] = []
    copy_checks: list[str] = []
    order = ["w1", "w2", "copy"]
    for run in range(runs):
        for variant in order if run % 2 == 0 else order[::-1]:
            if variant == "copy":
                seconds, check = copy_run(normalised, workdir, f"{rows}-{run}")
                copies.append(seconds)
                copy_checks.append(check)
                log(
                    f"  run {run + 1}/{runs} COPY: {seconds:.2f} s ({rate(normalised.created, seconds):,.0f} rows/s) "
                    f"stats {check}"
                )
            else:
                workers = int(variant[1])
                leads_reset()
                result = import_run(csv_path, workers, f"{rows}-w{workers}-{run}")
                imports[workers].append(result)
                log(
                    f"  run {run + 1}/{runs} import workers={workers}: {result.seconds:.2f} s "
                    f"(receive {result.receive:.2f} + import {result.import_:.2f}; "
                    f"{rate(rows, result.seconds):,.0f} rows/s); main {result.main_mb:.0f} MB, "
                    f"tree {result.tree_rss_mb:.0f} MB RSS / {result.tree_pss_mb:.0f} MB PSS; "
                    f"{_counts_check(result, normalised, rows)}"
                )
    leads_reset()
    copy_rate = rate(normalised.created, median(copies))
    results, memory_rows = [], []
    for workers, runs_ in imports.items():
        import_rate = rate(rows, median(r.seconds for r in runs_))
        ratio = import_rate / copy_rate
        checks = sorted({_counts_check(r, normalised, rows) for r in runs_})
        first = runs_[0].counts
        results.append(
            Result(
                f"import {rows:,} rows (upload_receive + lead_import), workers={workers}",
                rows,
                [r.seconds for r in runs_],
                f"{import_rate:,.0f} rows/s = {floor(ratio * 1000) / 1000:.3f}× COPY ({_ratio_verdict(ratio, rows)}); "
                f"receive {median(r.receive for r in runs_):.1f} s + "
                f"import {median(r.import_ for r in runs_):.1f} s ({_phases(runs_)}); "
                f"created {first['created']:,}, skipped {first['skipped']:,}, rejected {first['rejected']:,}, "
                f"not SMS-capable {first['not_sms_capable']:,} (as pre-normalised: {'; '.join(checks)})",
            )
        )
        peak_tree = max(r.tree_pss_mb for r in runs_)
        memory = (
            f"import process {max(r.main_mb for r in runs_):.0f} MB (VmHWM)"
            + (f", largest parser worker {max(r.worker_mb for r in runs_):.0f} MB (ru_maxrss)" if workers > 1 else "")
            + f"; whole tree {peak_tree:.0f} MB PSS ({max(r.tree_rss_mb for r in runs_):.0f} MB summed RSS)"
        )
        if rows >= MEMORY_GOAL_ROWS:
            memory += f"; goal < {GOAL_MEMORY_MB} MB: {'PASS' if peak_tree < GOAL_MEMORY_MB else 'FAIL'}"
        memory_rows.append(Result(f"peak memory, import of {rows:,} rows, workers={workers}", rows, [], memory))
    results += memory_rows
    bad_checks = sorted({c for c in copy_checks if c != "OK"})
    results.insert(
        len(imports),
        Result(
            f"raw COPY of the {normalised.created:,} normalised rows",
            normalised.created,
            copies,
            f"{copy_rate:,.0f} rows/s; psycopg COPY … FROM STDIN (text format, 1 MB writes) on Django's connection "
            f"into `leads` with all its indexes and triggers, fresh dataset, emptied table; stats == recount: "
            f"{'OK ×' + str(len(copy_checks)) if not bad_checks else '; '.join(bad_checks)}",
        ),
    )
    return results


def header(rows: list[int], runs: int, pg_version: str, load_at_start: float) -> str:
    from bench.main import git_revision

    return (
        f"# DBR import benchmark — {datetime.now():%Y-%m-%d %H:%M}\n\n"
        f"git {git_revision()}; PostgreSQL {pg_version}; Python {platform.python_version()}; "
        f"{os.cpu_count()} CPUs; files of {', '.join(f'{n:,}' for n in rows)} rows, {runs} run(s) of each "
        f"variant (alternating order); database {IMPORT_DB} (recreated for the run); "
        f"1-min load average {load_at_start:.1f} at start, {os.getloadavg()[0]:.1f} at end\n"
    )


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/import", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", help=f"comma-separated file sizes (default {','.join(map(str, FULL_ROWS))})")
    parser.add_argument("--runs", type=int, help="runs of each variant per size (default 3; 2 with --quick)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: {QUICK_ROWS[0]:,} rows")
    parser.add_argument("--keep", action="store_true", help=f"keep {IMPORT_DB} and the generated files")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child mode: import this file
    parser.add_argument("--workers", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--label", default="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.one:
        result = one_import(Path(args.one), args.workers, args.label)
        print(RESULT_MARK + json.dumps(result), flush=True)
        return 0
    sizes = (
        [int(n.replace("_", "")) for n in args.rows.split(",")]
        if args.rows
        else list(QUICK_ROWS if args.quick else FULL_ROWS)
    )
    runs = args.runs or (2 if args.quick else 3)
    load_at_start = os.getloadavg()[0]
    numbers_check()
    workdir = Path(tempfile.mkdtemp(prefix="dbr-bench-import-"))
    os.environ["DBR_MEDIA_ROOT"] = str(workdir / "media")  # the uploads' stored copies, not var/media
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ.pop("DBR_ALLOW_FICTION_NUMBERS", None)  # the production judgement of numbers
    set_up = False
    try:
        log(f"recreating database {IMPORT_DB}; files in {workdir}")
        database.django_setup(database.recreate(IMPORT_DB))
        set_up = True
        _flush_redis()
        from django.db import connection

        from bench.leads_data import copy_columns_check, execute
        from clients.services import client_create

        client = client_create(name="Bench Import", slug=CLIENT_SLUG)
        connection.set_tenant(client)
        copy_columns_check()
        execute("ALTER TABLE leads SET (autovacuum_enabled = false)")  # no vacuum starting mid-run
        results: list[Result] = []
        for rows in sizes:
            results += bench_size(rows, runs, workdir)
        pg_version = database.server_version()
        text = header(sizes, runs, pg_version, load_at_start) + "\n" + table(results) + "\n" + NOTES_TEXT
        publish(text, RESULTS_FILE)
    finally:
        if set_up:
            from django.db import connections

            connections.close_all()
        _flush_redis()
        if args.keep:
            log(f"kept database {IMPORT_DB} and {workdir}")
        else:
            database.drop(IMPORT_DB)
            shutil.rmtree(workdir, ignore_errors=True)
            log(f"dropped database {IMPORT_DB} and removed {workdir}")
    return 0


NOTES_TEXT = """
Import = `upload_receive` (stores a copy of the file, counts its rows) + `lead_import` (parse and judge every
row, COPY into a temp table, classify duplicates in SQL, one INSERT … SELECT of the leads, each pointing at its
upload — its "imported" timeline entry, docs/importing.md — one transaction), each run in a child process on an
emptied `leads` table. Its rate is file rows per second; the COPY's is rows copied per second (the accepted,
de-duplicated rows: about 97% of the file). Both write only `leads` (the import adds events only for merged rows
and suppressed numbers: none in this file). Peak memory is sampled every 0.2 s
over the import process and its parser workers (PSS: shared pages split between them); PostgreSQL's own memory
is not counted.
"""


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
