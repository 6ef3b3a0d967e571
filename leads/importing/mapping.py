"""Which column of a file fills which lead field: header synonyms, the guess, its checks, field labels.

No file and no writes; only `upload_mapping` reads a model (the upload and its dataset).
"""

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leads.models import Upload

FIELDS: tuple[str, ...] = ("first_name", "last_name", "phone_number", "email", "postcode", "inquiry_date", "notes")
# As people see them in the wizard and the campaign settings.
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "phone_number": "Phone number",
    "email": "Email",
    "postcode": "Postcode",
    "inquiry_date": "Enquiry date",
    "notes": "Notes",
}

# The names the import promises to know (first in each list), then the obvious others. Keys are normalised
# (see normalise_header).
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


def upload_mapping(upload: "Upload") -> dict[str, str]:
    """The mapping chosen in the wizard; else the dataset's saved one where it fits this file; else a guess."""
    if upload.column_mapping:
        return upload.column_mapping
    headers = upload.headers
    saved = (upload.dataset.column_mapping or {}) if upload.dataset else {}
    fitting = {header: target for header, target in saved.items() if header in headers}
    if saved and not validate_mapping(fitting, headers):
        return fitting
    return guess_mapping(headers)
