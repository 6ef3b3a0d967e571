"""The dashboard's counters: what each counts, as SQL, in one place (docs/dashboard.md).

Two kinds, both kept by statement-level triggers on `leads` (one UPDATE per dataset per statement,
whatever the number of rows), so the overview reads a few rows however many leads there are:

- **Dataset counters** (`datasets.*_leads`): the dataset as it is now. Each is the SQL expression a
  lead contributes (0 or 1). The "not archived" leads are split into named parts that add up
  (`PARTS`): a lead falls in the first part whose condition it meets.
- **The hourly lead rollup** (`lead_stats_hourly`): per dataset and UTC hour, the leads added in that
  hour, and the cohort first texted in that hour with what became of it (replied, hot, booked,
  converted, opted out). A period's figures are the sum of its hours.

Every contribution is a function of the row alone, so the triggers add a row's contribution on
INSERT, subtract it on DELETE and apply the difference on UPDATE: the counters always equal a recount
(`dataset_counters_recount`), which the tests check after every kind of write.
"""

from django.db import connection

# The parts of the not-archived leads, in order: a lead counts in the first that applies.
PARTS = (
    ("removed_leads", "contact_status = 'REMOVED'"),
    ("no_sms_leads", "NOT sms_capable"),
    ("duplicate_leads", "is_duplicate"),
    ("replied_open_leads", "reply_received_at IS NOT NULL"),
    ("in_cadence_leads", "next_step IS NOT NULL"),
    ("not_started_leads", "m1_sent_at IS NULL"),
    ("waiting_leads", "TRUE"),  # texted, no reply, no step to come
)


def _part_case() -> str:
    cases = " ".join(f"WHEN {condition} THEN '{name}'" for name, condition in PARTS)
    return f"(CASE WHEN archived THEN 'archived' {cases} END)"


# column -> what one lead contributes (0 or 1)
DATASET_COUNTERS: dict[str, str] = {
    "total_leads": "1",
    "active_leads": "(NOT archived)::int",
    "hot_leads": "(contact_status = 'HOT')::int",
    "converted_leads": "(contact_status = 'CONVERTED')::int",
    "contacted_leads": "(m1_sent_at IS NOT NULL)::int",
    "replied_leads": "(reply_received_at IS NOT NULL)::int",
    "booked_leads": "(call_booked)::int",
    "opted_out_leads": "(opted_out_at IS NOT NULL)::int",
    **{name: f"({_part_case()} = '{name}')::int" for name, _ in PARTS},
}

# Rollup column -> (the timestamp whose hour it counts in, the condition).
HOURLY_COUNTERS: dict[str, tuple[str, str]] = {
    "added": ("created_at", "TRUE"),
    "contacted": ("m1_sent_at", "m1_sent_at IS NOT NULL"),
    "replied": ("m1_sent_at", "m1_sent_at IS NOT NULL AND reply_received_at IS NOT NULL"),
    "hot": ("m1_sent_at", "m1_sent_at IS NOT NULL AND contact_status = 'HOT'"),
    "booked": ("m1_sent_at", "m1_sent_at IS NOT NULL AND call_booked"),
    "converted": ("m1_sent_at", "m1_sent_at IS NOT NULL AND contact_status = 'CONVERTED'"),
    "opted_out": ("m1_sent_at", "m1_sent_at IS NOT NULL AND opted_out_at IS NOT NULL"),
}


def _dataset_delta(rows: str, sign: str) -> str:
    columns = ", ".join(f"{sign}{expr} AS {name}" for name, expr in DATASET_COUNTERS.items())
    return f"SELECT dataset_id, {columns} FROM {rows}"


def _hourly_delta(rows: str, sign: str) -> str:
    """One row per (lead, timestamp it counts at): the counts it adds at that hour."""
    selects = []
    for stamp in dict.fromkeys(stamp for stamp, _ in HOURLY_COUNTERS.values()):
        columns = ", ".join(
            f"{sign}({condition})::int AS {name}" if s == stamp else f"0 AS {name}"
            for name, (s, condition) in HOURLY_COUNTERS.items()
        )
        selects.append(
            f"SELECT dataset_id, date_trunc('hour', {stamp}, 'UTC') AS hour, {columns} FROM {rows}"
            f" WHERE {stamp} IS NOT NULL"
        )
    return " UNION ALL ".join(selects)


def _sums(names) -> str:
    return ", ".join(f"sum({name}) AS {name}" for name in names)


def _nonzero(names, alias: str) -> str:
    return " OR ".join(f"{alias}.{name} <> 0" for name in names)


# Which transition tables a statement's difference is made of, and with which sign.
DELTAS = {
    "insert": [("new_rows", "")],
    "delete": [("old_rows", "-")],
    "update": [("new_rows", ""), ("old_rows", "-")],
}


def _apply(delta: str, *, insert_hours: bool) -> str:
    ds, hourly = list(DATASET_COUNTERS), list(HOURLY_COUNTERS)
    dataset_set = ", ".join(f"{name} = d.{name} + s.{name}" for name in ds)
    dataset_delta = " UNION ALL ".join(_dataset_delta(rows, sign) for rows, sign in DELTAS[delta])
    hourly_delta = " UNION ALL ".join(_hourly_delta(rows, sign) for rows, sign in DELTAS[delta])
    dataset = (
        f"UPDATE datasets d SET {dataset_set}"
        f" FROM (SELECT dataset_id, {_sums(ds)} FROM ({dataset_delta}) c GROUP BY dataset_id) s"
        f" WHERE d.id = s.dataset_id AND ({_nonzero(ds, 's')});"
    )
    grouped = f"SELECT dataset_id, hour, {_sums(hourly)} FROM ({hourly_delta}) c GROUP BY dataset_id, hour"
    if insert_hours:
        hourly_set = ", ".join(f"{name} = h.{name} + EXCLUDED.{name}" for name in hourly)
        hours = (
            f"INSERT INTO lead_stats_hourly AS h (dataset_id, hour, {', '.join(hourly)})"
            f" SELECT * FROM ({grouped}) s WHERE {_nonzero(hourly, 's')}"
            f" ON CONFLICT (dataset_id, hour) DO UPDATE SET {hourly_set};"
        )
    else:  # a delete only lowers rows that exist (a dataset being deleted may have lost its own already)
        hourly_update = ", ".join(f"{name} = h.{name} + s.{name}" for name in hourly)
        hours = (
            f"UPDATE lead_stats_hourly h SET {hourly_update} FROM ({grouped}) s"
            f" WHERE h.dataset_id = s.dataset_id AND h.hour = s.hour AND ({_nonzero(hourly, 's')});"
        )
    return dataset + "\n    " + hours


def trigger_sql() -> tuple[str, str]:
    """Forward and reverse SQL of the counters' trigger functions (the triggers on `leads` are 0002's)."""
    apply = _apply
    ds = list(DATASET_COUNTERS)
    zero = ", ".join(f"{name} = 0" for name in ds)
    forward = f"""
CREATE OR REPLACE FUNCTION dbr_dataset_stats_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {apply("insert", insert_hours=True)}
  ELSIF TG_OP = 'DELETE' THEN
    {apply("delete", insert_hours=False)}
  ELSE
    {apply("update", insert_hours=True)}
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION dbr_dataset_stats_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE datasets SET {zero};
  DELETE FROM lead_stats_hourly;
  RETURN NULL;
END $$;
"""
    return forward, ""


def recount_sql(where: str = "TRUE") -> list[str]:
    """Statements that recount the counters of the datasets matching `where` from their leads (a repair;
    the migration that adds a counter runs it once)."""
    ds = list(DATASET_COUNTERS)
    hourly = list(HOURLY_COUNTERS)
    sums = ", ".join(f"coalesce(sum({expr}), 0)" for expr in DATASET_COUNTERS.values())
    return [
        f"UPDATE datasets d SET ({', '.join(ds)}) = (SELECT {sums} FROM leads WHERE dataset_id = d.id) WHERE {where}",
        f"DELETE FROM lead_stats_hourly WHERE dataset_id IN (SELECT id FROM datasets d WHERE {where})",
        f"INSERT INTO lead_stats_hourly (dataset_id, hour, {', '.join(hourly)})"
        f" SELECT dataset_id, hour, {_sums(hourly)} FROM ({_hourly_delta('leads', '')}) c"
        f" WHERE dataset_id IN (SELECT id FROM datasets d WHERE {where}) GROUP BY dataset_id, hour",
    ]


def dataset_counters_recount(dataset_id=None) -> None:
    """Recounts one dataset's counters (or every dataset's) from its leads."""
    where = "d.id = %s" if dataset_id else "TRUE"
    with connection.cursor() as cursor:
        for statement in recount_sql(where):
            cursor.execute(statement, [dataset_id] if dataset_id else [])
