"""Files, rows and validators shared by the importer's tests (one file per stage: test_import_<stage>.py)."""

import csv
import io

from leads.importing.rows import RowValidator

HEADER = ["First Name", "Surname", "Mobile", "Email", "Postcode", "Enquiry Date", "Notes"]
MAPPING = {
    "First Name": "first_name",
    "Surname": "last_name",
    "Mobile": "phone_number",
    "Email": "email",
    "Postcode": "postcode",
    "Enquiry Date": "inquiry_date",
    "Notes": "notes",
}


def write(tmp_path, content: bytes | str, name: str = "leads.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue()


def validator(headers=HEADER, mapping=None, required=("first_name", "phone_number"), **options) -> RowValidator:
    return RowValidator(headers=headers, mapping=mapping or MAPPING, required_fields=list(required), **options)


def rows_of(table) -> list[list[str]]:
    return list(table.rows())
