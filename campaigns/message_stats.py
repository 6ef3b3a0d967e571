"""The messages-per-day chart's rollup: what it counts, as SQL, in one place (docs/dashboard.md).

`message_stats_hourly` holds, per dataset and UTC hour, the texts sent, delivered and failed and the
replies received. Statement-level triggers on `messages` keep it: every contribution is a function of
the message row alone (its direction, status and timestamps), so a statement adds what its new rows
count and takes away what its old rows counted. Whatever code changes a message's status (the outbox,
a COPY, a repair), the rollup equals a recount (`message_stats_recount`). A status change that
changes no count (pending → sending) writes nothing.
"""

from django.db import connection

# Rollup column -> (the hour it counts at, the condition a message meets to count).
MESSAGE_COUNTERS: dict[str, tuple[str, str]] = {
    "sent": ("m.sent_at", "m.direction = 'outbound' AND m.sent_at IS NOT NULL"),
    "delivered": (
        "coalesce(m.delivered_at, m.sent_at, m.created_at)",
        "m.direction = 'outbound' AND m.status = 'delivered'",
    ),
    "failed": (
        "coalesce(m.sent_at, m.created_at)",
        "m.direction = 'outbound' AND m.status IN ('failed', 'undelivered')",
    ),
    "replies": ("m.created_at", "m.direction = 'inbound'"),
}
NAMES = list(MESSAGE_COUNTERS)


def _delta(rows: str, sign: str) -> str:
    selects = []
    for name, (stamp, condition) in MESSAGE_COUNTERS.items():
        columns = ", ".join(f"{sign}1 AS {n}" if n == name else f"0 AS {n}" for n in NAMES)
        selects.append(
            f"SELECT l.dataset_id, date_trunc('hour', {stamp}, 'UTC') AS hour, {columns}"
            f" FROM {rows} m JOIN leads l ON l.id = m.lead_id WHERE {condition}"
        )
    return " UNION ALL ".join(selects)


def _grouped(parts: list[tuple[str, str]]) -> str:
    deltas = " UNION ALL ".join(_delta(rows, sign) for rows, sign in parts)
    sums = ", ".join(f"sum({n}) AS {n}" for n in NAMES)
    nonzero = " OR ".join(f"sum({n}) <> 0" for n in NAMES)
    return f"SELECT dataset_id, hour, {sums} FROM ({deltas}) c GROUP BY dataset_id, hour HAVING {nonzero}"


def _upsert(parts: list[tuple[str, str]]) -> str:
    update = ", ".join(f"{n} = h.{n} + EXCLUDED.{n}" for n in NAMES)
    return (
        f"INSERT INTO message_stats_hourly AS h (dataset_id, hour, {', '.join(NAMES)}) {_grouped(parts)}"
        f" ON CONFLICT (dataset_id, hour) DO UPDATE SET {update};"
    )


def trigger_sql() -> tuple[str, str]:
    update = ", ".join(f"{n} = h.{n} + s.{n}" for n in NAMES)
    # A delete only lowers rows that exist: a dataset being deleted may have lost its rollup already.
    delete = (
        f"UPDATE message_stats_hourly h SET {update} FROM ({_grouped([('old_rows', '-')])}) s"
        f" WHERE h.dataset_id = s.dataset_id AND h.hour = s.hour;"
    )
    forward = f"""
CREATE OR REPLACE FUNCTION dbr_message_stats_apply() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {_upsert([("new_rows", "")])}
  ELSIF TG_OP = 'DELETE' THEN
    {delete}
  ELSE
    {_upsert([("new_rows", ""), ("old_rows", "-")])}
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION dbr_message_stats_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  DELETE FROM message_stats_hourly;
  RETURN NULL;
END $$;

CREATE TRIGGER messages_stats_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dbr_message_stats_apply();
CREATE TRIGGER messages_stats_update AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION dbr_message_stats_apply();
CREATE TRIGGER messages_stats_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dbr_message_stats_apply();
CREATE TRIGGER messages_stats_truncate AFTER TRUNCATE ON messages
  FOR EACH STATEMENT EXECUTE FUNCTION dbr_message_stats_truncate();
"""
    reverse = """
DROP TRIGGER IF EXISTS messages_stats_insert ON messages;
DROP TRIGGER IF EXISTS messages_stats_update ON messages;
DROP TRIGGER IF EXISTS messages_stats_delete ON messages;
DROP TRIGGER IF EXISTS messages_stats_truncate ON messages;
DROP FUNCTION IF EXISTS dbr_message_stats_apply();
DROP FUNCTION IF EXISTS dbr_message_stats_truncate();
"""
    return forward, reverse


def recount_sql() -> list[str]:
    return [
        "DELETE FROM message_stats_hourly",
        f"INSERT INTO message_stats_hourly (dataset_id, hour, {', '.join(NAMES)}) {_grouped([('messages', '')])}",
    ]


def message_stats_recount() -> None:
    """Rebuilds the rollup from the messages (a repair; the triggers keep it right)."""
    with connection.cursor() as cursor:
        for statement in recount_sql():
            cursor.execute(statement)
