"""The wizard's preview: the first rows with their verdicts, and what the import would reject in a sample.

It judges rows with the import's own validator (the same settings), so its counts are the import's on the rows
it read. It reads the file and writes nothing; duplicates and suppressed numbers are decided by the import.
"""

from collections import Counter

from leads.importing.mapping import validate_mapping
from leads.importing.options import import_settings, row_validator
from leads.importing.reading import open_table
from leads.importing.receive import upload_local_path
from leads.importing.rows import iter_results
from leads.models import Dataset, Upload

SAMPLE_ROWS = 20_000  # the web request reads at most this many rows


def import_preview(
    *, upload: Upload, dataset: Dataset, mapping: dict, limit: int = 20, scan: int = SAMPLE_ROWS
) -> dict:
    """The first `limit` rows judged as the import would, and the rejections among the first `scan` rows."""
    options = import_settings(dataset)
    with upload_local_path(upload) as local:
        table = open_table(local, filename=upload.filename)
        problems = validate_mapping(mapping, table.headers)
        if problems:
            return {"problems": problems, "rows": [], "reasons": [], "scanned": 0, "rejected": 0}
        validator = row_validator(headers=table.headers, mapping=mapping, options=options)
        rows, scanned, rejected, reasons, more = [], 0, 0, Counter(), False
        for result in iter_results(table, validator):
            if scanned >= scan:
                more = True  # the file goes on: what follows is a sample
                break
            scanned += 1
            if len(rows) < limit:
                rows.append(result)
            if result.error:
                rejected += 1
                reasons.update(result.kinds)
    # The worker counts the rows after the upload; until then a sample's total is unknown (None).
    total = max(upload.rows_detected or 0, scanned) if upload.rows_detected or not more else None
    return {
        "problems": [],
        "rows": rows,
        "scanned": scanned,
        "total": total,
        "sample": more or scanned < (total or 0),
        "rejected": rejected,
        "accepted": scanned - rejected,
        "rejected_percent": round(100 * rejected / scanned) if scanned else 0,
        "reasons": reasons.most_common(),
    }
