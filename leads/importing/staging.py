"""Stage judged rows in a temporary table, `import_rows`, with COPY; the later steps work on it in SQL.

Accepted rows go to the table, rejected ones to the rejected-rows CSV; nothing touches `leads` yet.
"""

import json
from collections.abc import Callable
from operator import itemgetter

from django.db import connection

from leads.importing.reading import TableFile
from leads.importing.rows import RowValidator, iter_results
from leads.importing.summary import ImportSummary

PROGRESS_EVERY = 2000
# The Lead fields a judged row fills (RowValidator's values) with their type here; staged and inserted in this order.
LEAD_COLUMNS = {
    "phone_number": "text NOT NULL",
    "first_name": "text",
    "last_name": "text",
    "email": "text",
    "postcode": "text",
    "inquiry_date": "date",
    "notes": "text",
    "sms_capable": "bool",
    "sms_capable_reason": "text",
    "custom_fields": "jsonb",
}
_plain_values = itemgetter(*(name for name in LEAD_COLUMNS if name != "custom_fields"))


def lead_values(values: dict) -> list:
    """A judged row's values in LEAD_COLUMNS order, as COPY takes them."""
    return [*_plain_values(values), json.dumps(values["custom_fields"], ensure_ascii=False)]


def import_rows_create() -> None:
    """The temporary table of this import's rows; `lead_id` is the id of the lead a row creates, if it does."""
    columns = ", ".join(f"{name} {kind}" for name, kind in LEAD_COLUMNS.items())
    with connection.cursor() as cursor:
        # ON COMMIT DROP does not fire inside an outer transaction (tests, nested calls): start clean.
        cursor.execute("DROP TABLE IF EXISTS import_rows")
        cursor.execute(f"""
            CREATE TEMP TABLE import_rows (
              row_number int PRIMARY KEY, lead_id uuid DEFAULT gen_random_uuid(), {columns},
              outcome text, reason text, first_row int, target uuid, is_duplicate bool DEFAULT false,
              suppressed_reason text
            ) ON COMMIT DROP
        """)


def import_rows_copy(
    *,
    table: TableFile,
    validator: RowValidator,
    workers: int,
    summary: ImportSummary,
    rejected: Callable[[list], None],
    report: Callable[[int], None],
) -> None:
    """Judges every row of `table`: COPY the accepted, `rejected(cells)` the others; `report(rows)` as it goes."""
    columns = ", ".join(["row_number", *LEAD_COLUMNS])
    with connection.cursor() as cursor, cursor.copy(f"COPY import_rows ({columns}) FROM STDIN") as copy:
        for result in iter_results(table, validator, workers=workers):
            summary.rows += 1
            if result.error:
                summary.rejected += 1
                rejected([result.row_number, *result.raw, result.error])
                summary.note("rejected", {"row": result.row_number, "reason": result.error})
            else:
                copy.write_row([result.row_number, *lead_values(result.values)])
            if summary.rows % PROGRESS_EVERY == 0:
                report(summary.rows)
        report(summary.rows)
