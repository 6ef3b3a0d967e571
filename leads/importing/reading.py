"""Read an uploaded lead file: what it is, its header, its rows. No database.

`open_table` decides from the bytes what the file is (CSV in any common encoding and delimiter, or XLSX) and
refuses anything else with a message a person can act on. Rows are streamed, never held in memory.
"""

import codecs
import csv
import datetime
import io
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

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
            if number > self.header_row and not is_blank(cells):
                yield number, cells

    def rows(self) -> Iterator[list[str]]:
        """The cells of each data row, as read (not padded). Row numbers: use numbered_rows()."""
        for _, cells in self.numbered_rows():
            yield cells

    def count_rows(self) -> int:
        return sum(1 for _ in self.numbered_rows())

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        if self.kind == "xlsx":
            return _counted(_xlsx_records(self.path))
        return _counted(_csv_records(self.path, self.encoding or "utf-8", self.delimiter or ","))


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
    _refuse_xlsx_bomb(path, filename)
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


@dataclass(frozen=True)
class Limits:
    """What an upload may hold (settings DBR_IMPORT_*), far above any real list."""

    rows: int
    columns: int
    xlsx_bytes: int  # uncompressed, all members together
    xlsx_member_bytes: int  # uncompressed, one member (openpyxl holds all shared strings in memory)
    xlsx_ratio: int  # uncompressed / compressed, for members over 1 MB


def import_limits() -> Limits:
    from django.conf import settings

    mb = 1024 * 1024
    return Limits(
        rows=settings.DBR_IMPORT_MAX_ROWS,
        columns=settings.DBR_IMPORT_MAX_COLUMNS,
        xlsx_bytes=settings.DBR_IMPORT_XLSX_MAX_MB * mb,
        xlsx_member_bytes=settings.DBR_IMPORT_XLSX_MAX_MEMBER_MB * mb,
        xlsx_ratio=settings.DBR_IMPORT_XLSX_MAX_RATIO,
    )


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"')
TOO_BIG = (
    "{name} is too big to import: {why}. Split the list into smaller files (or export it as CSV) and upload those."
)


def _refuse_xlsx_bomb(path: str, filename: str) -> None:
    """Refuses, before any XML is parsed, a workbook that would inflate past the limits: the ZIP
    directory's declared sizes (per member, in total, compression ratio) and each sheet's declared
    dimensions. zipfile never inflates a member past its declared size, so these bound the reading too."""
    limits, name = import_limits(), _named(filename)
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        total = sum(member.file_size for member in members)
        if total > limits.xlsx_bytes:
            raise ImportFileError(TOO_BIG.format(name=name, why=f"it unpacks to {total // 2**20:,} MB"))
        for member in members:
            if member.file_size > limits.xlsx_member_bytes:
                why = f"its part {member.filename} unpacks to {member.file_size // 2**20:,} MB"
                raise ImportFileError(TOO_BIG.format(name=name, why=why))
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > 2**20 and ratio > limits.xlsx_ratio:
                why = f"its part {member.filename} unpacks {ratio:,.0f} times larger than it is stored"
                raise ImportFileError(TOO_BIG.format(name=name, why=why))
        for member in members:
            if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
                with archive.open(member) as sheet:
                    found = _DIMENSION.search(sheet.read(64 * 1024))
                if found:
                    _refuse_size(
                        name,
                        limits,
                        rows=int(found.group(4) or found.group(2) or 0),
                        columns=_column_number((found.group(3) or found.group(1) or b"A").decode()),
                    )


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _refuse_size(name: str, limits: Limits, *, rows: int, columns: int) -> None:
    if rows > limits.rows:
        raise ImportFileError(TOO_BIG.format(name=name, why=f"it has more than {limits.rows:,} rows"))
    if columns > limits.columns:
        raise ImportFileError(TOO_BIG.format(name=name, why=f"it has more than {limits.columns:,} columns"))


def _counted(records: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """The rows as read, refused once they pass the row or column limit (whatever the file declared)."""
    limits = import_limits()
    for number, cells in records:
        if number > limits.rows or len(cells) > limits.columns:
            _refuse_size("This file", limits, rows=number, columns=len(cells))
        yield number, cells


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
            if not is_blank(cells):
                table.header_row = number
                table.headers = unique_headers(cells)
                break
        else:
            raise ImportFileError("The file is empty.")
        if all(is_blank(cells) for _, cells in records):
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


def is_blank(cells: list[str]) -> bool:
    """Every cell empty or only spaces."""
    for cell in cells:
        if cell and not cell.isspace():
            return False
    return True
