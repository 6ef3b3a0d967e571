"""The wizard's preview: the first rows with their verdicts, and how many rows each required field would reject.

It reads the file and writes nothing.
"""

from leads.importing.mapping import validate_mapping
from leads.importing.options import import_settings, only_phone_required, row_validator
from leads.importing.reading import open_table
from leads.importing.receive import upload_local_path
from leads.importing.rows import iter_results
from leads.models import Dataset, Upload


def import_preview(*, upload: Upload, dataset: Dataset, mapping: dict, limit: int = 20, scan: int = 100_000) -> dict:
    """The first `limit` rows judged as the import would, and per required field the rows missing it."""
    options = import_settings(dataset)
    with upload_local_path(upload) as local:
        table = open_table(local, filename=upload.filename)
        problems = validate_mapping(mapping, table.headers)
        if problems:
            return {"problems": problems, "rows": [], "missing": {}, "scanned": 0}
        validator = row_validator(headers=table.headers, mapping=mapping, options=options)
        relaxed = row_validator(headers=table.headers, mapping=mapping, options=only_phone_required(options))
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
