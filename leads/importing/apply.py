"""Apply the classified rows (`import_rows`): merge into existing leads, create the new ones, write their events,
and count what happened into the summary."""

from django.db import connection

from clients.models import User
from leads import events
from leads.importing.classify import MERGED_FIELDS, keep_filled_sql
from leads.importing.staging import LEAD_COLUMNS
from leads.importing.summary import DETAIL_LIMIT, ImportSummary
from leads.models import Dataset, Lead, Upload


def import_rows_apply(*, dataset: Dataset, upload: Upload, actor: User | None, summary: ImportSummary) -> None:
    """Writes the outcome of every classified row; the lead ids were drawn when rows were staged.

    A created lead gets no event row: its "imported" timeline entry is read from its upload
    (`events.lead_import_entry`), so a million-row import writes a million leads, not two million rows.
    Merges and suppressions, which are few, still write theirs."""
    with connection.cursor() as cursor:
        _merge(cursor)
        events.leads_merged_sql(
            "SELECT r.target, r.row_number FROM import_rows r JOIN leads l ON l.id = r.target"
            " WHERE r.outcome = 'merge_into'",
            upload_id=upload.pk,
            actor=actor,
        )
        _create(cursor, dataset=dataset, upload=upload)  # each lead keeps its upload: its "imported" timeline entry
        events.numbers_suppressed_sql(
            "SELECT lead_id, suppressed_reason FROM import_rows"
            " WHERE outcome = 'create' AND suppressed_reason IS NOT NULL",
            source="import",
        )
        _count(cursor, summary)
        _note_examples(cursor, summary)


def _merge(cursor) -> None:
    """Fills the empty fields of the leads rows merge into (never overwriting) and adds their extra columns."""
    fill = ", ".join(f"{f} = {keep_filled_sql('l', 'r', f)}" for f in MERGED_FIELDS)
    cursor.execute(f"""
        UPDATE leads l SET {fill}, custom_fields = r.custom_fields || l.custom_fields, updated_at = now()
        FROM import_rows r WHERE r.outcome = 'merge_into' AND l.id = r.target
    """)


def _create(cursor, *, dataset: Dataset, upload: Upload) -> None:
    """One INSERT … SELECT of every lead to create; a suppressed number's lead starts out removed."""
    columns = ", ".join(LEAD_COLUMNS)
    cursor.execute(
        f"""
        INSERT INTO leads (id, created_at, updated_at, dataset_id, upload_id, {columns}, is_duplicate,
                           duplicate_of_id, row_number, contact_status, archived, manual_mode, call_booked,
                           total_messages)
        SELECT lead_id, now(), now(), %s, %s, {columns}, is_duplicate, target, row_number,
               CASE WHEN suppressed_reason IS NULL THEN %s ELSE %s END, false, false, false, 0
        FROM import_rows WHERE outcome = 'create'
    """,
        [dataset.pk, upload.pk, Lead.ContactStatus.READY, Lead.ContactStatus.REMOVED],
    )


def _count(cursor, summary: ImportSummary) -> None:
    cursor.execute("""
        SELECT outcome, count(*), count(*) FILTER (WHERE is_duplicate),
               count(*) FILTER (WHERE outcome = 'create' AND NOT sms_capable),
               count(*) FILTER (WHERE suppressed_reason IS NOT NULL)
        FROM import_rows GROUP BY outcome
    """)
    for outcome, count, flagged, not_capable, suppressed in cursor.fetchall():
        if outcome == "create":
            summary.created += count
            summary.flagged_duplicates += flagged
            summary.not_sms_capable += not_capable
            summary.suppressed += suppressed
        elif outcome in ("merged", "merge_into"):
            summary.merged += count
        else:
            summary.skipped += count


def _note_examples(cursor, summary: ImportSummary) -> None:
    cursor.execute(f"""
        SELECT r.row_number, r.phone_number, r.outcome, r.reason, r.is_duplicate, r.sms_capable,
               r.sms_capable_reason, r.suppressed_reason, r.target
        FROM import_rows r
        WHERE r.outcome <> 'create' OR r.is_duplicate OR NOT r.sms_capable OR r.suppressed_reason IS NOT NULL
        ORDER BY r.row_number LIMIT {DETAIL_LIMIT * 5}
    """)
    for row, phone, outcome, reason, dup, capable, capable_reason, suppressed, target in cursor.fetchall():
        item = {"row": row, "phone": phone}
        if outcome == "skipped":
            summary.note("skipped", {**item, "reason": reason})
        elif outcome in ("merged", "merge_into"):
            summary.note("merged", {**item, "reason": reason})
        else:
            if dup:
                summary.note("flagged_duplicates", {**item, "duplicate_of": str(target), "reason": reason})
            if not capable:
                summary.note("not_sms_capable", {**item, "reason": capable_reason})
            if suppressed:
                summary.note("suppressed", {**item, "reason": suppressed})
