"""Judge each row of a table: the fields of a `Lead`, or the reason the row is rejected. No database.

`RowValidator` judges one row (phone, email, postcode, date, required fields); `iter_results` runs it over a
whole table, on several processes when asked.
"""

import datetime
import gc
import multiprocessing
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from leads.importing.mapping import FIELDS, validate_mapping
from leads.importing.reading import ImportFileError, TableFile, is_blank
from leads.phones import NO_NUMBER, normalise_phone

UNPARSED_DATE_KEY = "inquiry_date (unparsed)"
NULL_TOKENS = frozenset({"", "n/a", "-", "--", "null", "none", "#n/a"})


@dataclass(slots=True)
class RowResult:
    row_number: int  # spreadsheet row number: the header is row 1 (usually), the first lead row 2
    values: dict | None  # accepted: the Lead's fields (see RowValidator.validate)
    error: str | None  # rejected: the reason
    raw: list[str]  # the cells as read
    kinds: tuple[str, ...] = ()  # rejected: each reason's kind, without the row's values (for counting)


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
        if len(cells) > width and not is_blank(cells[width:]):
            reason = f"Row has {len(cells)} cells but the header has {width} columns"
            return RowResult(row_number, None, reason, cells, ("More cells than the header has columns",))
        found = _present(cells, self.columns)
        errors, kinds = [], []
        missing = [name.replace("_", " ") for name in self.required_fields if not found.get(name)]
        if missing:
            errors.append(f"Missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
            kinds.extend(f"Missing {name}" for name in missing)

        phone_raw = found.get("phone_number", "")
        if phone_raw:
            phone = normalise_phone(phone_raw, **self.phone_options)
            if phone.e164 is None:
                errors.append(phone.reason)
                kinds.append("Phone number not valid")
        else:
            phone = NO_NUMBER
            if "phone_number" not in self.required_fields:  # else already reported as missing
                errors.append(phone.reason)
                kinds.append("Missing phone number")

        email = found.get("email", "")
        if email:
            email = email.lower()
            if not _valid_email(email):
                errors.append(f"Invalid email address '{found['email']}'")
                kinds.append("Email address not valid")

        custom = _present(cells, self.custom_columns)

        date_text = found.get("inquiry_date", "")
        inquiry_date = parse_date(date_text) if date_text else None
        if date_text and inquiry_date is None:
            if "inquiry_date" in self.required_fields:
                errors.append(f"Unrecognised inquiry date '{date_text}' (use dd/mm/yyyy or yyyy-mm-dd)")
                kinds.append("Inquiry date not recognised")
            custom[UNPARSED_DATE_KEY] = date_text

        if errors:
            return RowResult(row_number, None, "; ".join(errors), cells, tuple(kinds))
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
    # An executor, not multiprocessing.Pool: when a parser process dies (killed, out of memory) the
    # waiting result raises BrokenProcessPool and the import fails as a whole, instead of waiting forever.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(validator,)) as pool:
        in_flight: deque = deque()
        for chunk in _chunks(table.numbered_rows(), chunk_size):
            in_flight.append((chunk, pool.submit(_validate_chunk, chunk)))
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


def _validate_chunk(chunk: list[tuple[int, list[str]]]) -> list[tuple[dict | None, str | None, tuple]]:
    # The parent still holds the cells: send back only the verdicts.
    results = (_worker_validator.validate(number, cells) for number, cells in chunk)
    return [(result.values, result.error, result.kinds) for result in results]


def _finish(chunk: list[tuple[int, list[str]]], pending) -> Iterator[RowResult]:
    for (number, cells), (values, error, kinds) in zip(chunk, pending.result(), strict=True):
        yield RowResult(number, values, error, cells, kinds)
