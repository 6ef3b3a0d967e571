"""CSV exports of leads: streamed at any size, a copy kept in the client's exports storage."""

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterator

from django.core.files import File
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from clients.storage import save_client_file
from leads.models import Lead

COLUMNS = [
    "first_name",
    "last_name",
    "phone_number",
    "email",
    "postcode",
    "inquiry_date",
    "notes",
    "contact_status",
    "lead_sentiment",
    "m1_sent_at",
    "m2_sent_at",
    "m3_sent_at",
    "reply_received_at",
    "latest_lead_reply",
    "call_booked",
    "call_booked_time",
    "manual_mode",
    "archived",
    "sms_capable",
    "sms_capable_reason",
    "is_duplicate",
    "row_number",
    "created_at",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed number ("+447700900101", "-5", "+44 7700 900101") runs nothing: it is data, not a formula.
_PLAIN_NUMBER = re.compile(r"[+-]\d[\d .,]*")
PROGRESS_EVERY = 2000
EXCEL_BOM = "\ufeff"  # UTF-8 with a byte order mark: Excel then reads "Ó Briain", not "Ã“ Briain"


def neutralise(value) -> str:
    """A cell a spreadsheet could run as a formula gets a leading apostrophe (CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_rows(leads: QuerySet[Lead]) -> Iterator[list[str]]:
    custom_keys = sorted({key for fields in leads.values_list("custom_fields", flat=True).iterator() for key in fields})
    yield [*COLUMNS, "dataset", *(f"custom.{k}" for k in custom_keys)]
    if not leads.query.order_by:  # the caller's order (the table's sort) when it gives one; else the file's
        leads = leads.order_by("dataset__name", "row_number", "created_at")
    for lead in leads.select_related("dataset").iterator(2000):
        base = [neutralise(getattr(lead, column)) for column in COLUMNS]
        custom = [neutralise(lead.custom_fields.get(key)) for key in custom_keys]
        yield [*base, neutralise(lead.dataset.name), *custom]


def export_stream(leads: QuerySet[Lead], *, filename: str, bom: bool = False, owner=None) -> Iterator[str]:
    """Yields CSV text for a streaming response and saves the same bytes to exports storage at the end.

    `bom`: starts with a UTF-8 byte order mark, for Excel."""
    writer = csv.writer(_Echo())
    with tempfile.TemporaryFile() as copy:
        if bom:
            copy.write(EXCEL_BOM.encode("utf-8"))
            yield EXCEL_BOM
        for row in export_rows(leads):
            line = writer.writerow(row)
            copy.write(line.encode("utf-8"))
            yield line
        copy.seek(0)
        save_client_file("exports", filename, File(copy), owner=owner)


def export_filename() -> str:
    return f"leads-{timezone.now():%Y%m%d-%H%M%S}.csv"


def export_response(leads: QuerySet[Lead], *, owner, bom: bool = False) -> StreamingHttpResponse:
    """The CSV as a download, streamed (the leads table's Export and the API's)."""
    filename = export_filename()
    response = StreamingHttpResponse(
        export_stream(leads, filename=filename, bom=bom, owner=owner), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_save(
    leads: QuerySet[Lead], *, filename: str, owner=None, progress: Callable[[int], None] | None = None
) -> str:
    """Writes the whole export to storage (the background export, tasks); returns its storage path.

    `progress(leads written)` is called every `PROGRESS_EVERY` leads."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    with tempfile.TemporaryFile() as copy:
        for written, row in enumerate(export_rows(leads), start=0):  # the header is row 0
            writer.writerow(row)
            copy.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
            if progress and written and written % PROGRESS_EVERY == 0:
                progress(written)
        copy.seek(0)
        return save_client_file("exports", filename, File(copy), owner=owner)
