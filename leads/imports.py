"""Lead import: a file staff uploaded becomes leads in a dataset — all of it, or none of it.

Parsing and judging rows is `leads.importer` (no database); this module does the rest:
rows stream (in both cores) into a temporary table with COPY, duplicates and suppressed
numbers are classified in SQL, and one INSERT … SELECT creates the leads and their
`imported` events. Everything after the upload is one transaction, so a failure leaves the
dataset as it was; progress lives in Redis so it is visible while that transaction runs.
"""

import csv
import io
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from clients.models import User
from clients.storage import bucket_storage, save_client_file
from leads.importer import (
    FIELDS,
    ImportFileError,
    RowValidator,
    guess_mapping,
    iter_results,
    open_table,
    validate_mapping,
)
from leads.models import CampaignSettings, Dataset, Upload
from leads.progress import progress_set
from leads.services import default_template

log = logging.getLogger(__name__)

DETAIL_LIMIT = 1000  # per kind of outcome kept on the upload; the CSV holds every rejected row
PROGRESS_EVERY = 2000
IMPORT_COLUMNS = [
    "row_number",
    "phone_number",
    "first_name",
    "last_name",
    "email",
    "postcode",
    "inquiry_date",
    "notes",
    "custom_fields",
    "sms_capable",
    "sms_capable_reason",
]


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    merged: int = 0
    skipped: int = 0
    rejected: int = 0
    flagged_duplicates: int = 0
    not_sms_capable: int = 0
    suppressed: int = 0
    rejected_file: str | None = None
    details: dict[str, list] = field(
        default_factory=lambda: {
            "rejected": [],
            "skipped": [],
            "merged": [],
            "flagged_duplicates": [],
            "not_sms_capable": [],
            "suppressed": [],
        }
    )

    def as_json(self) -> dict:
        return asdict(self)


def import_settings(dataset: Dataset) -> CampaignSettings:
    """The dataset's own settings, else the client's default template (DESIGN §3)."""
    return dataset.campaign_settings or default_template()


def upload_receive(*, fileobj, filename: str, uploaded_by: User | None, dataset: Dataset | None = None) -> Upload:
    """Keeps the original file (per client) and records what it holds; a bad file is `failed`, not lost."""
    path = save_client_file("csv_uploads", filename, File(fileobj, name=filename))
    size = bucket_storage("csv_uploads").size(path)
    upload = Upload.objects.create(
        filename=filename,
        file_url=path,
        file_size=size,
        uploaded_by=uploaded_by,
        dataset=dataset,
        status=Upload.Status.PENDING,
    )
    try:
        with upload_local_path(upload) as local:
            table = open_table(local, filename=filename)
            upload.file_type = (
                "text/csv"
                if table.kind == "csv"
                else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
            upload.rows_detected = table.count_rows()
        upload.status = Upload.Status.MAPPING
        upload.errors = {"headers": table.headers, "encoding": table.encoding, "delimiter": table.delimiter}
    except ImportFileError as exc:
        upload.status = Upload.Status.FAILED
        upload.errors = {"file": str(exc)}
    upload.save()
    return upload


@contextmanager
def upload_local_path(upload: Upload) -> Iterator[str]:
    """A local path for the stored file (a temporary copy when storage is remote)."""
    storage = bucket_storage("csv_uploads")
    try:
        yield storage.path(upload.file_url)
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(suffix=os.path.splitext(upload.filename)[1]) as copy:
        with storage.open(upload.file_url, "rb") as source:
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                copy.write(chunk)
        copy.flush()
        yield copy.name


def upload_headers(upload: Upload) -> list[str]:
    return list((upload.errors or {}).get("headers") or [])


def mapping_for(upload: Upload, dataset: Dataset | None) -> dict[str, str]:
    """The dataset's saved mapping where it fits this file, else a guess from the headers."""
    headers = upload_headers(upload)
    saved = (dataset.column_mapping or {}) if dataset else {}
    if saved and not validate_mapping({h: f for h, f in saved.items() if h in headers}, headers):
        return {h: f for h, f in saved.items() if h in headers}
    return guess_mapping(headers)


def _validator(headers: list[str], mapping: dict, options: CampaignSettings) -> RowValidator:
    return RowValidator(
        headers=headers,
        mapping=mapping,
        required_fields=list(options.required_fields or []),
        auto_normalize_uk=options.auto_normalize_uk_numbers,
        allow_international=options.allow_international,
        allow_fiction=settings.DBR_ALLOW_FICTION_NUMBERS,
    )


def import_preview(*, upload: Upload, dataset: Dataset, mapping: dict, limit: int = 20, scan: int = 100_000) -> dict:
    """The first rows with their verdict, and how many rows each required field would reject."""
    options = import_settings(dataset)
    with upload_local_path(upload) as local:
        table = open_table(local, filename=upload.filename)
        problems = validate_mapping(mapping, table.headers)
        if problems:
            return {"problems": problems, "rows": [], "missing": {}, "scanned": 0}
        validator = _validator(table.headers, mapping, options)
        relaxed = _validator(table.headers, mapping, _without_required(options))
        rows, scanned = [], 0
        missing = {name: 0 for name in options.required_fields or []}
        for result in iter_results(table, relaxed):
            scanned += 1
            if len(rows) < limit:
                rows.append(validator.validate(result.row_number, result.raw))
            if result.values:
                for name in missing:
                    if not result.values.get(name):
                        missing[name] += 1
            if scanned >= scan:
                break
    return {"problems": [], "rows": rows, "missing": missing, "scanned": scanned}


def _without_required(options: CampaignSettings) -> CampaignSettings:
    copy = CampaignSettings(**{f.attname: getattr(options, f.attname) for f in CampaignSettings._meta.concrete_fields})
    copy.required_fields = ["phone_number"]
    return copy


def dataset_required_fields_set(*, dataset: Dataset, required_fields: list[str]) -> CampaignSettings:
    """Makes fields optional (or required) for this dataset only; templates stay as they are."""
    unknown = set(required_fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"Unknown fields: {', '.join(sorted(unknown))}")
    options = dataset.campaign_settings
    if options is None or options.is_template:
        from leads.services import campaign_settings_copy

        options = campaign_settings_copy(template=import_settings(dataset), name=f"{dataset.name} settings")
        dataset.campaign_settings = options
        dataset.save(update_fields=["campaign_settings", "updated_at"])
    options.required_fields = [f for f in FIELDS if f in required_fields or f == "phone_number"]
    options.save(update_fields=["required_fields", "updated_at"])
    return options


def lead_import(
    *,
    upload: Upload,
    dataset: Dataset,
    mapping: dict[str, str],
    actor: User | None = None,
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Imports an uploaded file into `dataset`. Raises ImportFileError when the file as a whole fails."""
    started = time.monotonic()
    upload.status, upload.started_at, upload.dataset = Upload.Status.PROCESSING, timezone.now(), dataset
    upload.save(update_fields=["status", "started_at", "dataset"])
    workers = workers or settings.DBR_IMPORT_WORKERS
    try:
        summary = _import(
            upload=upload, dataset=dataset, mapping=mapping, actor=actor, workers=workers, on_progress=on_progress
        )
    except ImportFileError as exc:
        _fail(upload, str(exc), started)
        raise
    except Exception as exc:
        log.exception("Import of upload %s failed", upload.pk)
        _fail(
            upload,
            f"The import failed and nothing was imported ({type(exc).__name__}: {exc}). "
            "The file is kept; try again or contact support.",
            started,
        )
        raise
    upload.status = Upload.Status.COMPLETED
    upload.rows_detected = summary.rows
    upload.rows_imported = summary.created + summary.merged
    upload.errors = {**(upload.errors or {}), "summary": summary.as_json()}
    upload.completed_at = timezone.now()
    upload.processing_time = round(time.monotonic() - started)
    upload.save()
    progress_set(upload.pk, done=summary.rows, total=summary.rows, phase="completed")
    return summary


def _fail(upload: Upload, message: str, started: float) -> None:
    upload.status = Upload.Status.FAILED
    upload.errors = {**(upload.errors or {}), "file": message}
    upload.completed_at = timezone.now()
    upload.processing_time = round(time.monotonic() - started)
    upload.save()
    progress_set(upload.pk, done=0, total=upload.rows_detected, phase="failed")


def _import(
    *,
    upload: Upload,
    dataset: Dataset,
    mapping: dict,
    actor: User | None,
    workers: int,
    on_progress: Callable[[int, int], None] | None,
) -> ImportSummary:
    options = import_settings(dataset)
    summary = ImportSummary()
    with upload_local_path(upload) as local, tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as rejected:
        table = open_table(local, filename=upload.filename)
        problems = validate_mapping(mapping, table.headers)
        if problems:
            raise ImportFileError(" ".join(problems))
        total = upload.rows_detected or table.count_rows()
        progress_set(upload.pk, done=0, total=total, phase="reading")
        writer = csv.writer(rejected)
        writer.writerow(["row", *table.headers, "reason"])
        with transaction.atomic():
            _create_temp_table()
            report = _reporter(upload, total, on_progress)
            _copy_rows(table, _validator(table.headers, mapping, options), workers, summary, writer, report)
            progress_set(upload.pk, done=summary.rows, total=total, phase="saving")
            # Serialises imports into one dataset from here to commit (classification must see committed leads).
            Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
            _classify(dataset, options.duplicate_action)
            _apply(dataset, upload, actor, summary)
            dataset.column_mapping = mapping
            dataset.save(update_fields=["column_mapping", "updated_at"])
        if summary.rejected:
            rejected.seek(0)
            summary.rejected_file = save_client_file(
                "exports", f"rejected-rows-{upload.pk}.csv", File(io.BytesIO(rejected.read().encode("utf-8")))
            )
    return summary


def _create_temp_table() -> None:
    with connection.cursor() as cursor:
        # ON COMMIT DROP does not fire inside an outer transaction (tests, nested calls): start clean.
        cursor.execute("DROP TABLE IF EXISTS import_rows")
        cursor.execute("""
            CREATE TEMP TABLE import_rows (
              row_number int PRIMARY KEY, phone_number text NOT NULL, first_name text, last_name text, email text,
              postcode text, inquiry_date date, notes text, custom_fields jsonb, sms_capable bool,
              sms_capable_reason text, outcome text, reason text, first_row int, target uuid,
              is_duplicate bool DEFAULT false, suppressed_reason text
            ) ON COMMIT DROP
        """)


def _reporter(upload: Upload, total: int, on_progress: Callable[[int, int], None] | None) -> Callable[[int], None]:
    def report(done: int) -> None:
        progress_set(upload.pk, done=done, total=max(total, done), phase="reading")
        if on_progress:
            on_progress(done, max(total, done))

    return report


def _copy_rows(table, validator, workers, summary: ImportSummary, writer, report: Callable[[int], None]) -> None:
    columns = ", ".join(IMPORT_COLUMNS)
    with connection.cursor() as cursor, cursor.copy(f"COPY import_rows ({columns}) FROM STDIN") as copy:
        for result in iter_results(table, validator, workers=workers):
            summary.rows += 1
            if result.error:
                summary.rejected += 1
                writer.writerow([result.row_number, *result.raw, result.error])
                _detail(summary, "rejected", {"row": result.row_number, "reason": result.error})
            else:
                v = result.values
                copy.write_row(
                    [
                        result.row_number,
                        v["phone_number"],
                        v.get("first_name") or "",
                        v.get("last_name") or None,
                        v.get("email") or None,
                        v.get("postcode") or None,
                        v.get("inquiry_date"),
                        v.get("notes") or None,
                        json.dumps(v.get("custom_fields") or {}, ensure_ascii=False),
                        v.get("sms_capable", True),
                        v.get("sms_capable_reason") or "",
                    ]
                )
            if summary.rows % PROGRESS_EVERY == 0:
                report(summary.rows)
        report(summary.rows)


def _detail(summary: ImportSummary, kind: str, item: dict) -> None:
    if len(summary.details[kind]) < DETAIL_LIMIT:
        summary.details[kind].append(item)


FILLABLE = ["first_name", "last_name", "email", "postcode", "inquiry_date", "notes"]


def _classify(dataset: Dataset, action: str) -> None:
    """Sets each temp row's outcome: create, merged (into an existing lead or an earlier row) or skipped."""
    merge = action == CampaignSettings.DuplicateAction.MERGE
    fill_from_dups = ", ".join(f"{f} = {_fill_sql('f', 'd', f)}" for f in FILLABLE)
    first_non_empty = ", ".join(
        f"(array_agg({f} ORDER BY row_number) FILTER (WHERE {f} IS NOT NULL AND {f}::text <> ''))[1] AS {f}"
        for f in FILLABLE
    )
    with connection.cursor() as cursor:
        # 1. The same number twice in the file: later rows fold into (merge) or are skipped for the first.
        cursor.execute(
            """
            UPDATE import_rows r SET first_row = f.first_row, reason = 'duplicate of row ' || f.first_row,
                   outcome = %s
            FROM (SELECT phone_number, min(row_number) AS first_row FROM import_rows
                  GROUP BY phone_number HAVING count(*) > 1) f
            WHERE r.phone_number = f.phone_number AND r.row_number > f.first_row
        """,
            ["merged" if merge else "skipped"],
        )
        if merge:
            cursor.execute(f"""
                UPDATE import_rows f SET {fill_from_dups},
                       custom_fields = COALESCE(c.merged, '{{}}') || f.custom_fields
                FROM (SELECT first_row, {first_non_empty} FROM import_rows
                      WHERE first_row IS NOT NULL GROUP BY first_row) d
                LEFT JOIN (SELECT first_row, jsonb_object_agg(key, value) AS merged
                           FROM (SELECT DISTINCT ON (r.first_row, e.key) r.first_row, e.key, e.value
                                 FROM import_rows r, jsonb_each(r.custom_fields) e
                                 WHERE r.first_row IS NOT NULL ORDER BY r.first_row, e.key, r.row_number) x
                           GROUP BY first_row) c ON c.first_row = d.first_row
                WHERE f.row_number = d.first_row
            """)
        # 2. Already in this dataset (the seed's unique (dataset, phone)).
        cursor.execute(
            """
            UPDATE import_rows r SET outcome = %s, reason = 'already in this dataset', target = l.id
            FROM leads l WHERE l.dataset_id = %s AND l.phone_number = r.phone_number AND r.outcome IS NULL
        """,
            ["merge_into" if merge else "skipped", dataset.pk],
        )
        # 3. In another dataset of this client: the dataset's duplicate_action decides.
        cursor.execute(
            """
            UPDATE import_rows r SET target = o.id, reason = 'already in dataset "' || o.name || '"'
            FROM (SELECT DISTINCT ON (l.phone_number) l.phone_number, l.id, d.name
                  FROM leads l JOIN datasets d ON d.id = l.dataset_id
                  WHERE l.dataset_id <> %s AND l.phone_number IN (SELECT phone_number FROM import_rows)
                  ORDER BY l.phone_number, l.created_at) o
            WHERE r.phone_number = o.phone_number AND r.outcome IS NULL
        """,
            [dataset.pk],
        )
        other = {
            "flag": "outcome = 'create', is_duplicate = true",
            "skip": "outcome = 'skipped'",
            "merge": "outcome = 'merge_into'",
            "keep_both": "outcome = 'create', target = NULL",
        }[action]
        cursor.execute(f"UPDATE import_rows SET {other} WHERE outcome IS NULL AND target IS NOT NULL")
        cursor.execute("UPDATE import_rows SET outcome = 'create', target = NULL, reason = NULL WHERE outcome IS NULL")
        cursor.execute("UPDATE import_rows SET target = NULL WHERE outcome = 'create' AND NOT is_duplicate")
        # 4. Suppressed numbers are created as removed, never messageable.
        cursor.execute("""
            UPDATE import_rows r SET suppressed_reason = 'number is on the suppression list (' || s.source || ')'
            FROM suppressions s WHERE s.phone_number = r.phone_number AND r.outcome = 'create'
        """)


def _fill_sql(existing: str, new: str, field_name: str) -> str:
    """SQL keeping `existing`'s value unless it is empty, then taking `new`'s (a merge never overwrites)."""
    if field_name == "inquiry_date":
        return f"COALESCE({existing}.{field_name}, {new}.{field_name})"
    return f"COALESCE(NULLIF({existing}.{field_name}, ''), {new}.{field_name}, {existing}.{field_name})"


def _apply(dataset: Dataset, upload: Upload, actor: User | None, summary: ImportSummary) -> None:
    fill = ", ".join(f"{f} = {_fill_sql('l', 'r', f)}" for f in FILLABLE)
    event_data = json.dumps({"upload_id": str(upload.pk)})
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH merged AS (
              UPDATE leads l SET {fill},
                     custom_fields = r.custom_fields || l.custom_fields, updated_at = now()
              FROM import_rows r WHERE r.outcome = 'merge_into' AND l.id = r.target
              RETURNING l.id, r.row_number
            )
            INSERT INTO lead_events (id, created_at, lead_id, event_type, actor_id, data)
            SELECT gen_random_uuid(), now(), id, 'merged', %s, %s::jsonb || jsonb_build_object('row', row_number)
            FROM merged
        """,
            [actor.pk if actor else None, event_data],
        )
        cursor.execute(
            """
            WITH created AS (
              INSERT INTO leads (id, created_at, updated_at, dataset_id, first_name, last_name, phone_number, email,
                                 postcode, inquiry_date, notes, custom_fields, sms_capable, sms_capable_reason,
                                 is_duplicate, duplicate_of_id, row_number, contact_status, archived, manual_mode,
                                 call_booked, total_messages)
              SELECT gen_random_uuid(), now(), now(), %s, first_name, last_name, phone_number, email, postcode,
                     inquiry_date, notes, custom_fields, sms_capable, sms_capable_reason, is_duplicate, target,
                     row_number, CASE WHEN suppressed_reason IS NULL THEN 'READY' ELSE 'REMOVED' END,
                     false, false, false, 0
              FROM import_rows WHERE outcome = 'create'
              RETURNING id, row_number
            )
            INSERT INTO lead_events (id, created_at, lead_id, event_type, actor_id, data)
            SELECT gen_random_uuid(), now(), c.id, 'imported', %s, %s::jsonb || jsonb_build_object('row', c.row_number)
            FROM created c
        """,
            [dataset.pk, actor.pk if actor else None, event_data],
        )
        cursor.execute(
            """
            INSERT INTO lead_events (id, created_at, lead_id, event_type, actor_id, data)
            SELECT gen_random_uuid(), now(), l.id, 'suppressed', NULL,
                   jsonb_build_object('source', 'import', 'reason', r.suppressed_reason)
            FROM import_rows r JOIN leads l ON l.dataset_id = %s AND l.phone_number = r.phone_number
            WHERE r.outcome = 'create' AND r.suppressed_reason IS NOT NULL
        """,
            [dataset.pk],
        )
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
                _detail(summary, "skipped", {**item, "reason": reason})
            elif outcome in ("merged", "merge_into"):
                _detail(summary, "merged", {**item, "reason": reason})
            else:
                if dup:
                    _detail(summary, "flagged_duplicates", {**item, "duplicate_of": str(target), "reason": reason})
                if not capable:
                    _detail(summary, "not_sms_capable", {**item, "reason": capable_reason})
                if suppressed:
                    _detail(summary, "suppressed", {**item, "reason": suppressed})
