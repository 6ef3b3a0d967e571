"""Judge one phone number from an uploaded file: undo spreadsheet damage, then let phonenumbers decide.

Pure functions, no database. Runs once per imported row, so the common shapes (`07911 123456`,
`+447911123456`) take a fast path: a regex clean-up and a `PhoneNumber` built straight from the digits,
judged by `phonenumbers.number_type` (the same check `is_valid_number` makes, done once instead of twice).
Anything unusual goes through `phonenumbers.parse` with region GB.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberType, ValidationResult

try:  # the helper number_type() runs per candidate region; absent in some future version, we use number_type()
    from phonenumbers.phonenumberutil import _number_type_helper
except ImportError:  # pragma: no cover
    _number_type_helper = None

UK_COUNTRY_CODE = 44
_GB_METADATA = PhoneMetadata.metadata_for_region("GB")


@dataclass(frozen=True, slots=True)
class PhoneResult:
    e164: str | None  # "+447911123456" when accepted
    sms_capable: bool  # False for landlines and other numbers that cannot receive SMS
    reason: str  # why rejected (e164 None) or why not sms_capable; "" otherwise


SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

NOT_SMS_REASONS = {
    PhoneNumberType.FIXED_LINE: "Landline (fixed line) — cannot receive SMS",
    PhoneNumberType.TOLL_FREE: "Freephone number — cannot receive SMS",
    PhoneNumberType.PREMIUM_RATE: "Premium-rate number — cannot receive SMS",
    PhoneNumberType.SHARED_COST: "Shared-cost number — cannot receive SMS",
    PhoneNumberType.VOIP: "VoIP (internet phone) number — cannot receive SMS",
    PhoneNumberType.PERSONAL_NUMBER: "Personal (follow-me) number — cannot receive SMS",
    PhoneNumberType.PAGER: "Pager number — cannot receive SMS",
    PhoneNumberType.UAN: "Non-geographic (UAN) number — cannot receive SMS",
    PhoneNumberType.VOICEMAIL: "Voicemail access number — cannot receive SMS",
}

NO_NUMBER = PhoneResult(None, False, "No phone number")

# Ofcom's ranges reserved for TV and radio drama: never allocated, so phonenumbers calls most of them
# invalid. (national significant number prefix, total NSN length)
FICTION_MOBILE = ("7700900",)
FICTION_OTHER = (
    "1134960",  # Leeds 0113 496 0xxx
    "1144960",  # Sheffield
    "1154960",  # Nottingham
    "1164960",  # Leicester
    "1174960",  # Bristol
    "1214960",  # Birmingham
    "1314960",  # Edinburgh
    "1414960",  # Glasgow
    "1514960",  # Liverpool
    "1614960",  # Manchester
    "1914980",  # Tyneside 0191 498 0xxx
    "2079460",  # London 020 7946 0xxx
    "2896496",  # Belfast 028 9649 6xxx
    "2920180",  # Cardiff 029 2018 0xxx
    "1632960",  # no area 01632 960xxx
    "8081570",  # freephone 08081 570xxx
    "9098790",  # premium rate 0909 879 0xxx
    "3069990",  # UK-wide 03069 990xxx
)

# Damage done by spreadsheets and people, undone before parsing.
_EXCEL_FLOAT = re.compile(r"(\+?)(?:(\d+)(?:\.(\d*))?[eE]\+?(\d{1,2})|(\d+)\.0*)")
_TRUNK_AFTER_44 = re.compile(r"(?<=44)\s*\(\s*0\s*\)")
# Spaces, dots, dashes, brackets, slashes, and the invisible marks Word and Outlook paste along.
_SEPARATORS = re.compile(r"[\s.\-()\[\]/\u00a0\u2010-\u2015\u2212\u200b-\u200f\u202a-\u202e\u2060\ufeff]+")
_DIGITS = re.compile(r"\+?\d+")
_UK_NSN = re.compile(r"[1-9]\d{6,9}")


def normalise_phone(
    raw: str, *, auto_normalize_uk: bool = True, allow_international: bool = False, allow_fiction: bool = False
) -> PhoneResult:
    """Accept or reject one cell as a phone number; accepted numbers come back in E.164."""
    # A leading ' or ="…" is how people stop Excel from eating the leading 0.
    text = raw.strip().lstrip("'=").strip().strip('"').strip() if raw else ""
    if not text:
        return NO_NUMBER
    cleaned = _clean(text)
    if cleaned is None:
        return PhoneResult(None, False, _excel_truncated_reason(text))
    if not cleaned:
        return PhoneResult(None, False, f"Not a valid UK phone number: '{text}' (no digits)")
    nsn = _uk_nsn(cleaned, auto_normalize_uk)
    if nsn is not None:
        return _judge_uk(text, nsn, allow_fiction)
    if not auto_normalize_uk and cleaned[0] not in "+0":
        return PhoneResult(
            None,
            False,
            f"Not a valid UK phone number: '{text}' (no leading 0 or +country code, "
            "and automatic UK number correction is off for this dataset)",
        )
    return _judge_parsed(text, cleaned, allow_international, allow_fiction)


def _clean(text: str) -> str | None:
    """Digits with an optional leading '+', or None when Excel's scientific notation lost digits."""
    if "." in text or "e" in text or "E" in text:
        float_form = _EXCEL_FLOAT.fullmatch(text)
        if float_form:
            return _unfloat(float_form)
    if "(" in text:
        text = _TRUNK_AFTER_44.sub("", text)
    text = _SEPARATORS.sub("", text)
    if text.startswith("00"):
        text = "+" + text[2:]
    return text


def _unfloat(match: re.Match) -> str | None:
    plus, mantissa_int, mantissa_frac, exponent, whole = match.groups()
    if whole is not None:
        return plus + whole
    written = mantissa_int + (mantissa_frac or "")
    value = Decimal(f"{mantissa_int}.{mantissa_frac or '0'}e{exponent}")
    if value != value.to_integral_value():
        return None
    number = str(int(value))
    # Excel's "General" format shows 447911123456 as 4.47911E+11: the zeros the exponent adds are made
    # up. One padded zero is common in honest exports (…450), two or more mean lost digits.
    if len(number) - len(written.lstrip("0")) >= 2:
        return None
    return plus + number


def _excel_truncated_reason(text: str) -> str:
    return (
        f"Not a valid phone number: '{text}' (Excel scientific notation lost the last digits; "
        "format the column as text and export again)"
    )


def _uk_nsn(cleaned: str, auto_normalize_uk: bool) -> str | None:
    """The UK national significant number of a cleaned number in one of the everyday UK shapes."""
    if cleaned.startswith("+44"):
        nsn = cleaned[3:]
        if nsn.startswith("0"):  # "+44 07911…", a common slip; phonenumbers drops this 0 too
            nsn = nsn[1:]
    elif cleaned.startswith("0"):
        nsn = cleaned[1:]
    elif auto_normalize_uk and len(cleaned) == 12 and cleaned.startswith("447"):
        nsn = cleaned[2:]
    elif auto_normalize_uk and len(cleaned) == 10 and cleaned.startswith("7"):
        nsn = cleaned
    else:
        return None
    if nsn.isascii() and _UK_NSN.fullmatch(nsn):
        return nsn
    return None


def _judge_uk(text: str, nsn: str, allow_fiction: bool) -> PhoneResult:
    if allow_fiction:
        fiction = _fiction(nsn)
        if fiction is not None:
            return fiction
    number = PhoneNumber(country_code=UK_COUNTRY_CODE, national_number=int(nsn))
    kind = uk_number_type(number, nsn)
    if kind == PhoneNumberType.UNKNOWN:
        return PhoneResult(None, False, _invalid_reason(text, number, uk=True))
    return _accepted("+44" + nsn, kind)


def uk_number_type(number: PhoneNumber, nsn: str) -> int:
    """`phonenumbers.number_type(number)` for a +44 number; UNKNOWN exactly when is_valid_number() is False.

    number_type() first finds the region (GB, then GG, IM, JE; GB has no leading-digit rule, so GB wins
    whenever the number is a valid GB number) and then types the number again for that region. Asking
    GB's metadata first gives the same answer with half the work for the common case.
    """
    if _number_type_helper is not None:
        kind = _number_type_helper(nsn, _GB_METADATA)
        if kind != PhoneNumberType.UNKNOWN:
            return kind
    return phonenumbers.number_type(number)


def _judge_parsed(text: str, cleaned: str, allow_international: bool, allow_fiction: bool) -> PhoneResult:
    candidate = cleaned if _DIGITS.fullmatch(cleaned) else text
    try:
        number = phonenumbers.parse(candidate, "GB")
    except phonenumbers.NumberParseException:
        return PhoneResult(None, False, f"Not a valid UK phone number: '{text}' (not a phone number)")
    if number.country_code == UK_COUNTRY_CODE:
        return _judge_uk(text, str(number.national_number), allow_fiction)
    if not allow_international:
        return PhoneResult(
            None, False, f"International number (+{number.country_code}) not allowed by this dataset's settings"
        )
    kind = phonenumbers.number_type(number)
    if kind == PhoneNumberType.UNKNOWN:
        return PhoneResult(None, False, _invalid_reason(text, number, uk=False))
    return _accepted(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind)


def _accepted(e164: str, kind: int) -> PhoneResult:
    if kind in SMS_TYPES:
        return PhoneResult(e164, True, "")
    return PhoneResult(e164, False, NOT_SMS_REASONS.get(kind, "Not a mobile number — cannot receive SMS"))


def _fiction(nsn: str) -> PhoneResult | None:
    if len(nsn) != 10:
        return None
    if nsn.startswith(FICTION_MOBILE):
        return PhoneResult("+44" + nsn, True, "")
    if nsn.startswith(FICTION_OTHER):
        return PhoneResult("+44" + nsn, False, "Fictional landline (Ofcom drama range) — cannot receive SMS")
    return None


def _invalid_reason(text: str, number: PhoneNumber, *, uk: bool) -> str:
    where = "UK " if uk else ""
    return f"Not a valid {where}phone number: '{text}' ({_why_invalid(number, uk=uk)})"


def _why_invalid(number: PhoneNumber, *, uk: bool) -> str:
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible == ValidationResult.IS_POSSIBLE and uk and str(number.national_number).startswith("7"):
        # GB allows 7- and 9-digit landlines, so judge a 07… number by the length of a mobile.
        possible = phonenumbers.is_possible_number_for_type_with_reason(number, PhoneNumberType.MOBILE)
    if possible == ValidationResult.TOO_SHORT:
        return "too short"
    if possible == ValidationResult.TOO_LONG:
        return "too long"
    if possible == ValidationResult.INVALID_COUNTRY_CODE:
        return "unknown country code"
    if possible == ValidationResult.INVALID_LENGTH:
        return "wrong number of digits"
    if uk and str(number.national_number).startswith("7700900"):
        return "a fictional Ofcom drama number"
    return "not a number range in use"
