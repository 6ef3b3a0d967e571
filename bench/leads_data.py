"""Lead rows, COPY into `leads`, trigger switches and the stats check used by the lead benchmarks.

Everything runs on Django's connection, which is in the client's schema (`connection.set_tenant`).
"""

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from time import perf_counter, sleep

from django.db import connection

from leads.models import Dataset, Lead
from leads.services import dataset_create

# Every NOT NULL column without a database default is here (checked by `copy_columns_check`).
COPY_COLUMNS = (
    "id",
    "dataset_id",
    "first_name",
    "last_name",
    "phone_number",
    "email",
    "postcode",
    "contact_status",
    "archived",
    "custom_fields",
    "call_booked",
    "manual_mode",
    "total_messages",
    "row_number",
)
STATS_TRIGGERS = ("leads_stats_insert", "leads_stats_update", "leads_stats_delete")
CUSTOM_FIELDS = json.dumps({"source": "bench"})

LeadRow = tuple[uuid.UUID, uuid.UUID, str, str, str, str, str, str, bool, str, bool, bool, int, int]

# The seed's trigger (dbr_v2_schema.md, "Automatic stats updates"), verbatim.
SEED_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION update_dataset_stats()
RETURNS TRIGGER AS $$
BEGIN
  UPDATE datasets
  SET
    total_leads = (SELECT COUNT(*) FROM leads WHERE dataset_id = NEW.dataset_id),
    active_leads = (SELECT COUNT(*) FROM leads WHERE dataset_id = NEW.dataset_id AND archived = FALSE),
    hot_leads = (SELECT COUNT(*) FROM leads WHERE dataset_id = NEW.dataset_id AND contact_status = 'HOT'),
    converted_leads = (SELECT COUNT(*) FROM leads WHERE dataset_id = NEW.dataset_id AND contact_status = 'CONVERTED')
  WHERE id = NEW.dataset_id;

  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trigger_update_dataset_stats
AFTER INSERT OR UPDATE OR DELETE ON leads
FOR EACH ROW EXECUTE FUNCTION update_dataset_stats();
"""
SEED_TRIGGER_DROP_SQL = """
DROP TRIGGER IF EXISTS trigger_update_dataset_stats ON leads;
DROP FUNCTION IF EXISTS update_dataset_stats();
"""


def execute(statement: str, params: Sequence | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def status_for(i: int) -> str:
    """5% HOT, 2% CONVERTED, the rest READY, so every counted column gets some rows."""
    if i % 20 == 0:
        return Lead.ContactStatus.HOT
    if i % 50 == 7:
        return Lead.ContactStatus.CONVERTED
    return Lead.ContactStatus.READY


def lead_rows(dataset_id: uuid.UUID, n: int) -> list[LeadRow]:
    """`n` leads for one dataset, in COPY_COLUMNS order; 10% archived."""
    return [
        (
            uuid.uuid4(),
            dataset_id,
            f"First{i}",
            f"Last{i}",
            f"+4479{i:08d}",
            f"lead{i}@example.com",
            "SW1A 1AA",
            status_for(i),
            i % 10 == 3,
            CUSTOM_FIELDS,
            False,
            False,
            0,
            i + 1,
        )
        for i in range(n)
    ]


def lead_objects(rows: list[LeadRow]) -> list[Lead]:
    return [Lead(**dict(zip(COPY_COLUMNS, row, strict=True)) | {"custom_fields": {"source": "bench"}}) for row in rows]


def copy_columns_check() -> None:
    """Fails loudly if the model gained a NOT NULL column without a database default that COPY leaves out."""
    missing = [
        name
        for (name,) in execute(
            """SELECT column_name FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = 'leads'
                 AND is_nullable = 'NO' AND column_default IS NULL"""
        )
        if name not in COPY_COLUMNS
    ]
    if missing:
        raise RuntimeError(f"COPY_COLUMNS lacks NOT NULL columns without a default: {missing}")


def copy_rows(table: str, rows: list[LeadRow]) -> float:
    """COPYs rows into `table` on Django's connection; seconds including the statement's triggers and commit."""
    with connection.cursor() as cursor:
        started = perf_counter()
        with cursor.copy(f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return perf_counter() - started


def leads_reset() -> None:
    """Empties `leads` (and what references it) and checkpoints, so each run starts from the same state."""
    execute("TRUNCATE leads CASCADE")
    execute("CHECKPOINT")


def dataset_fresh(name: str) -> Dataset:
    return dataset_create(name=name)


@contextmanager
def stats_triggers_disabled() -> Iterator[None]:
    """Disables only our three stats triggers (not the FK or updated_at triggers), re-enabling them after."""
    for trigger in STATS_TRIGGERS:
        execute(f"ALTER TABLE leads DISABLE TRIGGER {trigger}")
    try:
        yield
    finally:
        for trigger in STATS_TRIGGERS:
            execute(f"ALTER TABLE leads ENABLE TRIGGER {trigger}")


@contextmanager
def seed_trigger_installed() -> Iterator[None]:
    """The seed's row-level trigger in place of ours, for as long as the block runs."""
    with stats_triggers_disabled():
        execute(SEED_TRIGGER_SQL)
        try:
            yield
        finally:
            execute(SEED_TRIGGER_DROP_SQL)


def stats_check(dataset_id: uuid.UUID) -> str:
    """'OK' when the dataset's stored stats equal a plain recount of its leads, else 'MISMATCH …'."""
    stored = execute(
        "SELECT total_leads, active_leads, hot_leads, converted_leads FROM datasets WHERE id = %s", [dataset_id]
    )[0]
    recount = execute(
        """SELECT count(*), count(*) FILTER (WHERE NOT archived), count(*) FILTER (WHERE contact_status = 'HOT'),
                  count(*) FILTER (WHERE contact_status = 'CONVERTED')
           FROM leads WHERE dataset_id = %s""",
        [dataset_id],
    )[0]
    return "OK" if tuple(stored) == tuple(recount) else f"MISMATCH stored={stored} recount={recount}"


def dataset_row_state(dataset_id: uuid.UUID) -> tuple[int, int, int]:
    """(xmin of the dataset's row, n_tup_upd of `datasets`, hot_leads): xmin changes whenever the row is written."""
    if connection.pg_version >= 150000:
        execute("SELECT pg_stat_force_next_flush()")  # this backend's counts, flushed before the next statement
    else:
        sleep(1.5)  # the statistics collector reports about every 0.5 s
    ((xmin, hot),) = execute("SELECT xmin::text::bigint, hot_leads FROM datasets WHERE id = %s", [dataset_id])
    ((updates,),) = execute("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'datasets'::regclass")
    return xmin, updates, hot


def single_updates(statement: str, ids: Sequence[uuid.UUID], value: str) -> float:
    """One autocommitted UPDATE per id, as the app does when it changes one lead; seconds for all."""
    with connection.cursor() as cursor:
        started = perf_counter()
        for lead_id in ids:
            cursor.execute(statement, [value, lead_id])
        return perf_counter() - started
