"""Read an uploaded lead file and judge each row. No database: the import service (leads.imports) writes.

`open_table` decides from the bytes what the file is (CSV in any common encoding and delimiter, or
XLSX) and refuses anything else with a message a person can act on. Rows are streamed, never held in
memory. `RowValidator` turns one row into the fields of a `Lead` or a reason for rejecting it;
`iter_results` runs it over a whole table, on several processes when asked.
"""

import codecs
import csv
import datetime
import gc
import io
import multiprocessing
import os
import re
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from leads.phones import NO_NUMBER, normalise_phone

FIELDS: tuple[str, ...] = ("first_name", "last_name", "phone_number", "email", "postcode", "inquiry_date", "notes")
FIELD_LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "phone_number": "phone number",
    "email": "email",
    "postcode": "postcode",
    "inquiry_date": "inquiry date",
    "notes": "notes",
}
UNPARSED_DATE_KEY = "inquiry_date (unparsed)"

# DESIGN.md §6 synonyms first, then the obvious others. Keys are normalised (see normalise_header).
HEADER_SYNONYMS: dict[str, str] = {
    **dict.fromkeys(
        ["first name", "forename", "first", "forenames", "given name", "given names", "fname", "christian name"],
        "first_name",
    ),
    **dict.fromkeys(["last name", "surname", "last", "family name", "lname", "second name"], "last_name"),
    **dict.fromkeys(
        [
            "mobile",
            "phone",
            "tel",
            "telephone",
            "phone number",
            "mobile number",
            "contact number",
            "mobile phone",
            "mobile phone number",
            "mobile no",
            "mobile tel",
            "mobile telephone",
            "mob",
            "mob no",
            "phone no",
            "tel no",
            "tel number",
            "telephone number",
            "telephone no",
            "cell",
            "cell phone",
            "cell number",
            "contact phone",
            "contact no",
            "contact tel",
            "sms number",
            "msisdn",
        ],
        "phone_number",
    ),
    **dict.fromkeys(["email", "email address", "e mail", "e mail address", "mail", "email addr"], "email"),
    **dict.fromkeys(["postcode", "post code", "zip", "zip code", "postal code", "post code zip"], "postcode"),
    **dict.fromkeys(
        [
            "enquiry date",
            "inquiry date",
            "date of enquiry",
            "date of inquiry",
            "enquiry",
            "inquiry",
            "date",
            "enquired",
            "enquired on",
            "date enquired",
            "enquiry received",
            "lead date",
            "date added",
        ],
        "inquiry_date",
    ),
    **dict.fromkeys(["notes", "note", "comments", "comment", "remarks", "additional notes"], "notes"),
}
# CRM exports often prefix every column ("Contact First Name", "Customer Email").
_HEADER_PREFIXES = ("contact ", "customer ", "client ", "lead ", "primary ", "main ")

NULL_TOKENS = frozenset({"", "n/a", "-", "--", "null", "none", "#n/a"})

SAMPLE_BYTES = 1 << 20  # decides the encoding
SNIFF_BYTES = 8192  # decides what kind of file this is
DELIMITERS = ",;\t|"
MAX_FIELD_CHARS = 10 * 1024 * 1024

csv.field_size_limit(MAX_FIELD_CHARS)

EXPORT_HINT = "Export your leads as CSV or Excel (.xlsx) and upload that."


class ImportFileError(Exception):
    """The whole file cannot be imported; str(exc) is the message for the user."""


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    # A UTF-8 file with a stray cp1252 byte (a pasted £ or é) keeps that character instead of failing
    # half-way; bytes cp1252 leaves undefined go through Latin-1, so nothing is dropped.
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(chr(b) if b in _CP1252_HOLES else bytes([b]).decode("cp1252") for b in bad), exc.end


_CP1252_HOLES = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})
_DECODE_ERRORS = "dbr_cp1252_fallback"
codecs.register_error(_DECODE_ERRORS, _cp1252_fallback)


# ---------------------------------------------------------------------------------------------------
# Reading files


@dataclass
class TableFile:
    kind: str  # "csv" or "xlsx"
    encoding: str | None  # e.g. "utf-8-sig", "cp1252"
    delimiter: str | None  # ",", ";", "\t", "|"
    headers: list[str]  # as in the file, stripped; duplicates made unique: "Phone", "Phone (2)"
    path: str = field(repr=False, default="")
    header_row: int = field(repr=False, default=1)  # spreadsheet row number of the header

    def numbered_rows(self) -> Iterator[tuple[int, list[str]]]:
        """(spreadsheet row number, cells) of each data row; entirely empty rows are skipped."""
        for number, cells in self._records():
            if number > self.header_row and not _blank(cells):
                yield number, cells

    def rows(self) -> Iterator[list[str]]:
        """The cells of each data row, as read (not padded). Row numbers: use numbered_rows()."""
        for _, cells in self.numbered_rows():
            yield cells

    def count_rows(self) -> int:
        return sum(1 for _ in self.numbered_rows())

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        if self.kind == "xlsx":
            return _xlsx_records(self.path)
        return _csv_records(self.path, self.encoding or "utf-8", self.delimiter or ",")


def open_table(path: str | os.PathLike, *, filename: str = "") -> TableFile:
    """Judge the file by its content (never its name or label) and read its header.

    `filename` is only used in messages.
    """
    path = os.fspath(path)
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip(b" \t\r\n\x0c\xef\xbb\xbf"):
        raise ImportFileError("The file is empty.")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _open_xlsx(path, filename)
    _refuse_binary(head[:SNIFF_BYTES], filename)
    encoding = _guess_encoding(head)
    sample = head.decode(encoding, errors="replace" if encoding.startswith("utf-16") else _DECODE_ERRORS)
    _refuse_markup(sample, filename)
    delimiter = _guess_delimiter(sample)
    table = TableFile(kind="csv", encoding=encoding, delimiter=delimiter, headers=[], path=path)
    return _with_header(table)


def _named(filename: str, otherwise: str = "This") -> str:
    return f"'{filename}'" if filename else otherwise


_SIGNATURES = [
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Excel .xls file (or another Office 97–2003 or password-protected file)",
    ),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"{\\rtf", "a Rich Text (RTF) document"),
]


def _refuse_binary(head: bytes, filename: str) -> None:
    looks_like = next((what for magic, what in _SIGNATURES if head.startswith(magic)), None)
    if looks_like is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        looks_like = "a WebP image"
    if looks_like is None and head[4:12] in (b"ftypheic", b"ftypmif1", b"ftypisom", b"ftypmp42", b"ftypqt  "):
        looks_like = "a photo or video"
    if looks_like is not None:
        raise ImportFileError(f"{_named(filename)} looks like {looks_like}, not a spreadsheet. {EXPORT_HINT}")
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or _utf16_without_bom(head)
    if b"\x00" in head and not utf16:
        what = "binary data, not the text of a CSV file or an Excel (.xlsx) workbook"
        raise ImportFileError(f"{_named(filename, 'This file')} contains {what}. {EXPORT_HINT}")


def _refuse_markup(sample: str, filename: str) -> None:
    start = sample[:2048].lstrip("\ufeff \t\r\n").lower()
    if start.startswith(("<!doctype html", "<html", "<table", "<head", "<body")):
        what = "a web page (HTML), not a spreadsheet — some systems save those with an .xls name"
    elif start.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in start:
        what = "an Excel 2003 XML spreadsheet"
    elif start.startswith("<?xml"):
        what = "an XML file, not a spreadsheet"
    else:
        controls = sum(1 for ch in sample[:SNIFF_BYTES] if ch < " " and ch not in "\t\r\n\x0c")
        if controls * 100 <= len(sample[:SNIFF_BYTES]):
            return
        what = "binary data, not the text of a CSV file"
    raise ImportFileError(f"{_named(filename)} looks like {what}. {EXPORT_HINT}")


def _utf16_without_bom(head: bytes) -> str | None:
    even, odd = head[0::2], head[1::2]
    if len(head) >= 4 and odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if len(head) >= 4 and even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _guess_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode Text" export
    utf16 = _utf16_without_bom(head[:SNIFF_BYTES])
    if utf16:
        return utf16
    # final=False: a character cut by the end of the sample is not evidence against UTF-8.
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head, final=False)
    bad = text.count("\ufffd")
    if not bad:
        return "utf-8"
    # Mostly UTF-8 with a stray cp1252 byte pasted in stays UTF-8 (the odd byte is read as cp1252).
    good = len(_NON_ASCII.findall(text))
    return "utf-8" if good > bad else "cp1252"


_NON_ASCII = re.compile(r"[^\x00-\x7f\ufffd]")


def _guess_delimiter(sample: str) -> str:
    """csv.Sniffer's answer, checked against the header line; the more consistent one wins."""
    lines = sample[: 64 * 1024].splitlines()
    if len(lines) > 1 and len(sample) > 64 * 1024:
        lines = lines[:-1]  # the last line of a cut sample is partial
    header_line = next((line for line in lines if line.strip()), "")
    declared = _declared_delimiter(header_line)
    if declared:
        return declared
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    by_header = max(DELIMITERS, key=lambda d: counts[d]) if max(counts.values()) else None
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = None
    if sniffed is None or sniffed == by_header:
        return by_header or sniffed or ","
    if by_header is None:
        return sniffed
    text = "\n".join(lines[:200])
    return max((by_header, sniffed), key=lambda d: _consistency(text, d))


def _declared_delimiter(first_line: str) -> str | None:
    """Excel writes and honours a first line "sep=;"; it is not shown as a row."""
    line = first_line.strip()
    if len(line) == 5 and line[:4].lower() == "sep=" and line[4] in DELIMITERS:
        return line[4]
    return None


def _count_outside_quotes(line: str, delimiter: str) -> int:
    return sum(part.count(delimiter) for part in line.split('"')[::2])


def _consistency(text: str, delimiter: str) -> tuple[float, int]:
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    if not rows:
        return (0.0, 0)
    width = len(rows[0])
    same = sum(1 for row in rows[1:] if len(row) == width)
    return (same / max(len(rows) - 1, 1) if width > 1 else 0.0, width)


def _csv_records(path: str, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    errors = "replace" if encoding.startswith("utf-16") else _DECODE_ERRORS
    with open(path, "rb") as raw, io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="") as text:
        reader = csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True, skipinitialspace=True)
        number = 0
        try:
            for number, cells in enumerate(reader, 1):  # noqa: B007 (number is used by the except)
                if number == 1 and _declared_delimiter(delimiter.join(cells)) == delimiter:
                    break
                yield number, cells
            for number, cells in enumerate(reader, 1):  # after "sep=": rows numbered as Excel shows them
                yield number, cells
        except csv.Error as exc:
            raise ImportFileError(
                f'Row {number + 1} of the file could not be read ({exc}); it probably has a quote (") that is '
                "never closed."
            )


def _open_xlsx(path: str, filename: str) -> TableFile:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError):
        raise ImportFileError(f"{_named(filename)} looks like a damaged ZIP archive, not a spreadsheet. {EXPORT_HINT}")
    if "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            what = "an Excel binary workbook (.xlsb)"
        elif b"opendocument.spreadsheet" in mimetype:
            what = "an OpenDocument spreadsheet (.ods)"
        elif "word/document.xml" in names:
            what = "a Word document"
        elif "ppt/presentation.xml" in names:
            what = "a PowerPoint presentation"
        elif "Index/Document.iwa" in names:
            what = "an Apple Numbers file"
        else:
            what = "a ZIP archive"
        raise ImportFileError(f"{_named(filename)} looks like {what}, not a spreadsheet. {EXPORT_HINT}")
    return _with_header(TableFile(kind="xlsx", encoding=None, delimiter=None, headers=[], path=path))


def _xlsx_records(path: str) -> Iterator[tuple[int, list[str]]]:
    import openpyxl  # only XLSX uploads pay for importing it

    # A file object, not the path: openpyxl refuses paths whose extension is not .xlsx, and the
    # extension is the one thing we do not judge by.
    with open(path, "rb") as handle:
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds of error for a damaged file
            raise ImportFileError(f"This Excel file could not be read ({exc}). Save it again in Excel, or export CSV.")
        try:
            if not workbook.worksheets:
                return
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # some writers record a wrong size; read every cell that is there
            for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
                yield number, [_cell_text(value) for value in values]
        finally:
            workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _with_header(table: TableFile) -> TableFile:
    records = table._records()
    try:
        for number, cells in records:
            if not _blank(cells):
                table.header_row = number
                table.headers = unique_headers(cells)
                break
        else:
            raise ImportFileError("The file is empty.")
        if all(_blank(cells) for _, cells in records):
            raise ImportFileError("The file has a header row but no leads.")
    finally:
        records.close()
    return table


def unique_headers(cells: list[str]) -> list[str]:
    """Stripped header names; trailing empty ones dropped, empty ones named, duplicates numbered."""
    names = [cell.replace("\ufeff", "").strip() for cell in cells]
    while names and not names[-1]:
        names.pop()
    seen: set[str] = set()
    headers = []
    for position, name in enumerate(names, 1):
        name = name or f"Column {position}"
        unique, copy = name, 1
        while unique in seen:
            copy += 1
            unique = f"{name} ({copy})"
        seen.add(unique)
        headers.append(unique)
    return headers


def _blank(cells: list[str]) -> bool:
    for cell in cells:
        if cell and not cell.isspace():
            return False
    return True


# ---------------------------------------------------------------------------------------------------
# Column mapping


def normalise_header(header: str) -> str:
    """'E-Mail_Address ' -> 'e mail address': lower case, punctuation and underscores as single spaces."""
    return " ".join(re.sub(r"[\W_]+", " ", header.lower()).split())


_SYNONYMS_COMPACT = {key.replace(" ", ""): value for key, value in HEADER_SYNONYMS.items()}


def field_for_header(header: str) -> str | None:
    name = normalise_header(header)
    found = _SYNONYMS_COMPACT.get(name.replace(" ", ""))
    if found is None and name.startswith(_HEADER_PREFIXES):
        found = _SYNONYMS_COMPACT.get(name.split(" ", 1)[1].replace(" ", ""))
    return found


def guess_mapping(headers: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for header in headers:
        found = field_for_header(header)
        if found and found not in mapping.values():
            mapping[header] = found
    return mapping


def validate_mapping(mapping: dict[str, str], headers: list[str]) -> list[str]:
    problems = []
    columns = _listing(headers)
    by_field: dict[str, list[str]] = {}
    for header, target in mapping.items():
        if header not in headers:
            problems.append(f"The mapping names a column '{header}' that is not in the file (columns: {columns})")
        if not target:
            continue
        if target not in FIELDS:
            problems.append(
                f"The mapping sends column '{header}' to '{target}', which is not a lead field "
                f"(fields: {', '.join(FIELDS)})"
            )
        by_field.setdefault(target, []).append(header)
    for target, sources in by_field.items():
        if len(sources) > 1:
            problems.append(f"{len(sources)} columns are mapped to {target}: {_listing(sources)}. Map only one.")
    if "phone_number" not in by_field:
        problems.append(f"No column could be the phone number: map one of {columns}")
    return problems


def _listing(names: list[str], limit: int = 20) -> str:
    shown = ", ".join(f"'{name}'" for name in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


# ---------------------------------------------------------------------------------------------------
# Judging rows


@dataclass(slots=True)
class RowResult:
    row_number: int  # spreadsheet row number: the header is row 1 (usually), the first lead row 2
    values: dict | None  # accepted: the Lead's fields (see RowValidator.validate)
    error: str | None  # rejected: the reason
    raw: list[str]  # the cells as read


class RowValidator:
    """Turns one row into a Lead's fields or a reason to reject it. Picklable: plain data only."""

    def __init__(
        self,
        *,
        headers: list[str],
        mapping: dict[str, str],
        required_fields: list[str],
        auto_normalize_uk: bool = True,
        allow_international: bool = False,
        allow_fiction: bool = False,
    ):
        problems = validate_mapping(mapping, headers)
        unknown = [name for name in required_fields if name not in FIELDS]
        if unknown:
            problems.append(f"Required fields that are not lead fields: {', '.join(unknown)}")
        if problems:
            raise ImportFileError(" ".join(problems))
        self.headers = list(headers)
        self.required_fields = [name for name in FIELDS if name in required_fields]
        self.phone_options = {
            "auto_normalize_uk": auto_normalize_uk,
            "allow_international": allow_international,
            "allow_fiction": allow_fiction,
        }
        position = {header: index for index, header in enumerate(headers)}
        self.columns = tuple((target, position[header]) for header, target in mapping.items() if target)
        mapped = {index for _, index in self.columns}
        self.custom_columns = tuple((header, index) for index, header in enumerate(headers) if index not in mapped)

    def validate(self, row_number: int, cells: list[str]) -> RowResult:
        width = len(self.headers)
        if len(cells) > width and not _blank(cells[width:]):
            return RowResult(row_number, None, f"Row has {len(cells)} cells but the header has {width} columns", cells)
        found = _present(cells, self.columns)
        errors = []
        missing = [FIELD_LABELS[name] for name in self.required_fields if not found.get(name)]
        if missing:
            errors.append(f"Missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")

        phone_raw = found.get("phone_number", "")
        if phone_raw:
            phone = normalise_phone(phone_raw, **self.phone_options)
            if phone.e164 is None:
                errors.append(phone.reason)
        else:
            phone = NO_NUMBER
            if "phone_number" not in self.required_fields:  # else already reported as missing
                errors.append(phone.reason)

        email = found.get("email", "")
        if email:
            email = email.lower()
            if not _valid_email(email):
                errors.append(f"Invalid email address '{found['email']}'")

        custom = _present(cells, self.custom_columns)

        date_text = found.get("inquiry_date", "")
        inquiry_date = parse_date(date_text) if date_text else None
        if date_text and inquiry_date is None:
            if "inquiry_date" in self.required_fields:
                errors.append(f"Unrecognised inquiry date '{date_text}' (use dd/mm/yyyy or yyyy-mm-dd)")
            custom[UNPARSED_DATE_KEY] = date_text

        if errors:
            return RowResult(row_number, None, "; ".join(errors), cells)
        postcode = found.get("postcode", "")
        values = {
            "first_name": found.get("first_name", ""),
            "last_name": found.get("last_name") or None,
            "phone_number": phone.e164,
            "email": email or None,
            "postcode": normalise_postcode(postcode) if postcode else None,
            "inquiry_date": inquiry_date,
            "notes": found.get("notes") or None,
            "sms_capable": phone.sms_capable,
            "sms_capable_reason": phone.reason,
            "custom_fields": custom,
        }
        return RowResult(row_number, values, None, cells)


def _present(cells: list[str], columns: tuple[tuple[str, int], ...]) -> dict[str, str]:
    """{key: stripped value} of the columns that have a value ("N/A", "-", "null"… count as none)."""
    found = {}
    count = len(cells)
    for key, index in columns:
        if index < count:
            value = cells[index].strip()
            if value and (len(value) > 4 or value.lower() not in NULL_TOKENS):
                found[key] = value
    return found


def _valid_email(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


# Postcodes: the outward code shapes A9, A99, AA9, AA99, A9A, AA9A, then 9AA (gov.uk's data standard).
_POSTCODE = re.compile(
    r"(?:[A-Z][0-9]{1,2}|[A-Z][A-HJ-Y][0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z][A-HJ-Y][0-9][A-Z])[0-9][A-Z]{2}"
)
_BFPO = re.compile(r"BFPO(\d{1,4})")
_SPACES = re.compile(r"\s+")


def normalise_postcode(text: str) -> str:
    """'sw1a1aa' -> 'SW1A 1AA'; anything that is not a UK postcode comes back as given (stripped)."""
    compact = _SPACES.sub("", text).upper()
    if _POSTCODE.fullmatch(compact) or compact == "GIR0AA":
        return f"{compact[:-3]} {compact[-3:]}"
    bfpo = _BFPO.fullmatch(compact)
    if bfpo:
        return f"BFPO {bfpo.group(1)}"
    return text.strip()


# Dates: UK day-first; month-first only when day-first is impossible.
_TIME_TAIL = r"(?:[T ,]+\d{1,2}[:.]\d{2}.*)?"
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME_TAIL, re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})" + _TIME_TAIL, re.IGNORECASE)
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_EXCEL_SERIAL = re.compile(r"(\d{5})(?:\.\d+)?")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_SERIALS = range(18264, 73051)  # 1950-01-01 .. 2099-12-31
_CLOCK = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[ap]\.?m\.?)?", re.IGNORECASE)
_WORDS = re.compile(r"[^\W\d_]+|\d+")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_FILLER = frozenset({"st", "nd", "rd", "th", "of", "the", "at", "on"})


@lru_cache(maxsize=8192)
def parse_date(text: str) -> datetime.date | None:
    """An inquiry date as people and spreadsheets write it, or None."""
    text = text.strip()
    match = _NUMERIC_DATE.fullmatch(text)
    if match:
        first, second, year = int(match[1]), int(match[2]), _full_year(match[3])
        return _date(year, second, first) or _date(year, first, second)
    match = _ISO_DATE.fullmatch(text)
    if match:
        return _date(int(match[1]), int(match[2]), int(match[3]))
    match = _EXCEL_SERIAL.fullmatch(text)
    if match:
        serial = int(match[1])
        return _EXCEL_EPOCH + datetime.timedelta(days=serial) if serial in _SERIALS else None
    match = _COMPACT_DATE.fullmatch(text)
    if match:
        return _date(int(match[1]), int(match[2]), int(match[3]))
    return _date_in_words(text)


def _date_in_words(text: str) -> datetime.date | None:
    """'3 April 2024', '3rd Apr 24', 'April 3, 2024', 'Wed 3 April 2024 10:00', 'April 2024' (the 1st)."""
    month = None
    numbers = []
    for token in _WORDS.findall(_CLOCK.sub(" ", text).lower()):
        if token.isdigit():
            numbers.append(token)
        elif token in _FILLER:
            continue
        elif len(token) >= 3 and any(name.startswith(token) for name in _WEEKDAYS):
            continue
        elif len(token) >= 3 and month is None and any(name.startswith(token) for name in _MONTHS):
            month = next(index for index, name in enumerate(_MONTHS, 1) if name.startswith(token))
        else:
            return None
    if month is None:
        return None
    if len(numbers) == 1 and len(numbers[0]) == 4:
        return _date(int(numbers[0]), month, 1)
    if len(numbers) == 2:
        day, year = numbers if len(numbers[1]) in (2, 4) and len(numbers[0]) <= 2 else (None, None)
        if day is not None:
            return _date(_full_year(year), month, int(day))
    return None


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # strptime's %y rule
        return 2000 + year if year <= 68 else 1900 + year
    return year


def _date(year: int, month: int, day: int) -> datetime.date | None:
    if not (1 <= month <= 12 and 1 <= day <= 31 and 1900 <= year <= 2100):
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:  # 31 June, 29 February of a common year
        return None


# ---------------------------------------------------------------------------------------------------
# Running a table through a validator


_worker_validator: RowValidator | None = None


def iter_results(
    table: TableFile, validator: RowValidator, *, workers: int = 1, chunk_size: int = 2000
) -> Iterator[RowResult]:
    """Every data row's result, in file order. With workers > 1, rows are judged in a process pool.

    Only a few chunks are in flight at a time, so memory stays flat however slowly the caller consumes.
    """
    # Every row allocates a few dicts, so the collector runs full passes over the whole process heap
    # (all of Django) again and again; frozen, it only looks at what this import allocates. Undone at the end.
    # A process that froze its heap itself (a pre-forking server) keeps its own arrangement.
    freezing = gc.get_freeze_count() == 0
    if freezing:
        gc.freeze()
    try:
        if workers <= 1 or multiprocessing.current_process().daemon:  # daemonic processes cannot fork a pool
            for number, cells in table.numbered_rows():
                yield validator.validate(number, cells)
        else:
            yield from _pooled(table, validator, workers, chunk_size)
    finally:
        if freezing:
            gc.unfreeze()


def _pooled(table: TableFile, validator: RowValidator, workers: int, chunk_size: int) -> Iterator[RowResult]:
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_start_worker, initargs=(validator,)) as pool:
        in_flight: deque = deque()
        for chunk in _chunks(table.numbered_rows(), chunk_size):
            in_flight.append((chunk, pool.apply_async(_validate_chunk, (chunk,))))
            if len(in_flight) > 2 * workers:
                yield from _finish(*in_flight.popleft())
        while in_flight:
            yield from _finish(*in_flight.popleft())


def _chunks(rows: Iterable[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _start_worker(validator: RowValidator) -> None:
    global _worker_validator
    _worker_validator = validator


def _validate_chunk(chunk: list[tuple[int, list[str]]]) -> list[tuple[dict | None, str | None]]:
    # The parent still holds the cells: send back only the verdicts.
    results = (_worker_validator.validate(number, cells) for number, cells in chunk)
    return [(result.values, result.error) for result in results]


def _finish(chunk: list[tuple[int, list[str]]], pending) -> Iterator[RowResult]:
    for (number, cells), (values, error) in zip(chunk, pending.get(), strict=True):
        yield RowResult(number, values, error, cells)
