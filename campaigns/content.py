"""Cadence message text (docs/architecture.md §4): merge fields, GSM-7 normalisation, segments, PECR checks.

Pure: no database, no clock. A merge field is `{name}` (also `{ name }` and `{{name}}`) where
the braces hold no braces or line breaks and at least one letter; braces around anything else
(`{}`, `{:-)}`) are literal text.
"""

import difflib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

MERGE_FIELDS = ("first_name", "last_name", "company_name", "agent_name", "booking_link", "enquiry_month", "postcode")
CUSTOM_PREFIX = "custom."
OPT_OUT_LINE = "Reply STOP to opt out."
FIRST_NAME_FALLBACK = "there"
# Reads naturally in the usual M1 ("You asked us about solar panels in {enquiry_month}.").
ENQUIRY_MONTH_FALLBACK = "the past"
DEFAULT_AGENT_NAME = "Sophie"

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")  # sent as escape + character: two septets each

_FIELD_RE = re.compile(r"\{(?P<double>\{)?(?P<body>[^{}\r\n]*[A-Za-z][^{}\r\n]*)(?(double)\})\}")
# An empty field takes the space before it along ("Hi {first_name} {last_name}, ..." with no
# last name reads "Hi Sarah, ...", not "Hi Sarah , ...").
_EMPTY = "\ue000"  # private use: never in a real message
_EMPTY_GAP_RE = re.compile(" +\ue000(?=[ ,.;:!?)]|$)")
_STOP_RE = re.compile(r"(?<![\w-])stop(?![\w-])", re.IGNORECASE)
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Characters phones and word processors put in that have a GSM-7 equivalent (Twilio's "smart
# encoding" idea): one of them alone turns a 160-character message into 70-character parts.
_LOOK_ALIKES = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2035\u00b4\u0060\u02bc\u02bb\uff07", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\uff02", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\t", " "),
        **dict.fromkeys("\u2028\u2029", "\n"),
        **dict.fromkeys("\u200b\u2060\ufeff\u00ad", None),  # zero-width space / joiner, BOM, soft hyphen
        "\u2026": "...",
    }
)
_ZERO_WIDTH_JOINERS = "\u200c\u200d"  # kept inside emoji sequences, dropped elsewhere


def merge_fields_in(template: str) -> list[str]:
    """The merge field names a template uses, in order of first use, e.g. ["first_name", "custom.Roof"]."""
    names = (_field_name(match) for match in _FIELD_RE.finditer(template or ""))
    return list(dict.fromkeys(names))


def unknown_merge_fields(template: str, *, custom_columns: Collection[str] | None = None) -> list[str]:
    """Fields that are neither a merge field nor, when `custom_columns` (the dataset's imported columns) is
    given, one of its columns; with None every {custom.<column>} passes (nothing imported to judge by)."""
    columns = None if custom_columns is None else {_fold(column) for column in custom_columns}
    return [name for name in merge_fields_in(template) if not _is_known(name, columns)]


def custom_field_hint(name: str, custom_columns: Collection[str] | None) -> str | None:
    """For a {custom.<column>} the dataset lacks: the end of the sentence that says so; else None."""
    column = name[len(CUSTOM_PREFIX) :].strip() if name.startswith(CUSTOM_PREFIX) else ""
    if not column or custom_columns is None:
        return None
    by_fold = {_fold(known): known for known in custom_columns}
    close = difflib.get_close_matches(_fold(column), list(by_fold), n=1, cutoff=0.6)
    if close:
        return f": the imported files have no column {column!r} (did you mean {{{CUSTOM_PREFIX}{by_fold[close[0]]}}}?)"
    if not by_fold:
        return f": the imported files have no column {column!r} (no extra columns at all)"
    known = ", ".join(sorted(by_fold.values()))
    return f": the imported files have no column {column!r} (their extra columns: {known})"


def render(
    template: str, *, lead, company_name: str, agent_name: str = DEFAULT_AGENT_NAME, booking_link: str = ""
) -> str:
    """The message for one lead, normalised to GSM-7 where possible; unknown fields stay as typed.

    `lead` is anything with the Lead attributes (first_name, last_name, postcode, inquiry_date,
    custom_fields). Fallbacks: first name "there", enquiry month "the past", others empty; an
    empty field followed by a space, punctuation or the end drops the spaces before it.
    """
    values = {
        "first_name": _text(getattr(lead, "first_name", None)) or FIRST_NAME_FALLBACK,
        "last_name": _text(getattr(lead, "last_name", None)),
        "company_name": _text(company_name),
        "agent_name": _text(agent_name) or DEFAULT_AGENT_NAME,
        "booking_link": _text(booking_link),
        "enquiry_month": _enquiry_month(getattr(lead, "inquiry_date", None)),
        "postcode": _text(getattr(lead, "postcode", None)),
    }
    custom = getattr(lead, "custom_fields", None) or {}

    def substitute(match: re.Match) -> str:
        name = _field_name(match)
        if name in values:
            return values[name] or _EMPTY
        if _is_known(name):
            return _custom_value(custom, name[len(CUSTOM_PREFIX) :].strip()) or _EMPTY
        return match.group(0)

    text = _FIELD_RE.sub(substitute, template or "")
    return to_gsm7(_EMPTY_GAP_RE.sub("", text).replace(_EMPTY, ""))


def to_gsm7(text: str) -> str:
    """Replace look-alikes (smart quotes, dashes, ellipsis, odd spaces) with GSM-7 characters.

    Drops zero-width characters (but keeps the joiners inside emoji sequences); characters with
    no GSM-7 stand-in (emoji, Chinese, most accented letters) are left alone.
    """
    text = unicodedata.normalize("NFC", text).translate(_LOOK_ALIKES)
    if not any(joiner in text for joiner in _ZERO_WIDTH_JOINERS):
        return text
    kept = []
    for index, char in enumerate(text):
        if char in _ZERO_WIDTH_JOINERS and not _between_non_gsm(text, index):
            continue
        kept.append(char)
    return "".join(kept)


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # septets for GSM-7 (extended characters count 2), UTF-16 code units for UCS-2
    segments: int  # 0 for an empty message


def segments(text: str) -> Segments:
    """How a message goes over the air; a two-unit character is never split across parts."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENDED for char in text):
        costs = [2 if char in GSM7_EXTENDED else 1 for char in text]
        return Segments("GSM-7", sum(costs), _parts(costs, single=160, multi=153))
    costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return Segments("UCS-2", sum(costs), _parts(costs, single=70, multi=67))


def has_opt_out(text: str) -> bool:
    """The word STOP in any case, as a word of its own ("stopped", "non-stop" do not count)."""
    return bool(_STOP_RE.search(to_gsm7(text or "")))


def names_sender(text: str, company_name: str) -> bool:
    """The text uses {company_name} or contains the company name (case-insensitive)."""
    if "company_name" in merge_fields_in(text):
        return True
    name = " ".join(to_gsm7(company_name or "").split()).casefold()
    return bool(name) and name in " ".join(to_gsm7(text or "").split()).casefold()


def with_opt_out(text: str, *, auto_append: bool) -> str:
    if not auto_append or has_opt_out(text):
        return text
    text = text.rstrip()
    return f"{text} {OPT_OUT_LINE}" if text else OPT_OUT_LINE


def cadence_problems(
    *,
    m1: str,
    m2: str | None,
    m3: str | None,
    company_name: str,
    auto_append_opt_out: bool,
    custom_columns: Collection[str] | None = None,
) -> list[str]:
    """Every reason the messages stop a campaign from starting (empty list: they may start)."""
    problems = []
    if not (m1 or "").strip():
        problems.append("M1 is missing: a campaign needs at least its first message.")
    for step, text in (("M1", m1), ("M2", m2), ("M3", m3)):
        if not (text or "").strip():
            continue
        for name in unknown_merge_fields(text, custom_columns=custom_columns):
            hint = custom_field_hint(name, custom_columns) or _did_you_mean(name)
            problems.append(f"{step} uses an unknown merge field {{{name}}}{hint}.")
        if not names_sender(text, company_name):
            problems.append(f"{step} does not name the sender: include {{company_name}} or {company_name!r} (PECR).")
        if not auto_append_opt_out and not has_opt_out(text):
            problems.append(
                f"{step} has no opt-out instruction (the word STOP) and the opt-out line is not "
                "appended automatically (PECR)."
            )
    return problems


def _field_name(match: re.Match) -> str:
    return match.group("body").strip()


def _is_known(name: str, columns: set[str] | None = None) -> bool:
    """A merge field, or {custom.<column>} naming one of `columns` (folded; None: any column)."""
    if name in MERGE_FIELDS:
        return True
    column = name[len(CUSTOM_PREFIX) :].strip() if name.startswith(CUSTOM_PREFIX) else ""
    return bool(column) and (columns is None or _fold(column) in columns)


def _fold(column: str) -> str:
    """A column name as {custom.<column>} matches it: ignoring case and spacing."""
    return " ".join(str(column).split()).casefold()


def _did_you_mean(name: str) -> str:
    folded = name.casefold().replace(" ", "_")
    for known in MERGE_FIELDS:
        if known == folded:
            return f" (did you mean {{{known}}}?)"
    if folded.startswith(CUSTOM_PREFIX) and name[len(CUSTOM_PREFIX) :].strip():
        return f" (did you mean {{{CUSTOM_PREFIX}{name[len(CUSTOM_PREFIX) :]}}}?)"
    return ""


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _custom_value(custom: dict, column: str) -> str:
    """An imported column's value: exact header first, then ignoring case and spacing."""
    if column in custom:
        return _text(custom[column])
    wanted = _fold(column)
    for key, value in custom.items():
        if _fold(key) == wanted:
            return _text(value)
    return ""


def _enquiry_month(inquiry_date) -> str:
    if isinstance(inquiry_date, str):
        try:
            inquiry_date = date.fromisoformat(inquiry_date.strip()[:10])
        except ValueError:
            return ENQUIRY_MONTH_FALLBACK
    if isinstance(inquiry_date, date):  # a datetime is a date too
        return f"{_MONTHS[inquiry_date.month - 1]} {inquiry_date.year}"
    return ENQUIRY_MONTH_FALLBACK


def _between_non_gsm(text: str, index: int) -> bool:
    before = text[index - 1] if index else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    return bool(before and after) and not _is_gsm7(before) and not _is_gsm7(after)


def _is_gsm7(char: str) -> bool:
    return char in GSM7_BASIC or char in GSM7_EXTENDED


def _parts(costs: list[int], *, single: int, multi: int) -> int:
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            parts, used = parts + 1, 0
        used += cost
    return parts
