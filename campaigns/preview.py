"""What staff see before a campaign texts anyone: M1–M3 rendered for a sample lead, with warnings and notes."""

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

from django.db.models import QuerySet

from campaigns import content
from leads.eligibility import Purpose
from leads.models import Lead

# Used when a dataset has no lead (yet) the user may see.
EXAMPLE_LEAD = SimpleNamespace(
    first_name="Sarah",
    last_name="Jones",
    postcode="LS6 2AB",
    inquiry_date=date(2024, 4, 15),
    custom_fields={},
    full_name="Sarah Jones",
    is_example=True,
)
STEPS = ("M1", "M2", "M3")
# A URL, a bare domain or the booking link field: no link in M1 (UK users are told to distrust texts with links).
_LINK_RE = re.compile(
    r"https?://|\bwww\.|\{\{?\s*booking_link\s*\}?\}|\b[a-z0-9-]+\.(?:co\.uk|org\.uk|com|uk|net|org|io|ly|me|info)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MessagePreview:
    step: str
    text: str  # what is sent (rendered, GSM-7 normalised, opt-out line appended when on)
    encoding: str
    characters: int
    segments: int
    warnings: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.text


def sample_lead(leads: QuerySet[Lead]):
    """One lead of the dataset the cadence would text, else any of its leads, else the example lead.

    Lowest phone number rather than first imported row: it reads the (dataset, phone_number)
    index instead of sorting a large dataset on every keystroke of the preview.
    """
    leads = leads.order_by("phone_number")
    return leads.messageable(purpose=Purpose.CADENCE).first() or leads.first() or EXAMPLE_LEAD


def merge_field_hint(name: str, custom_columns: Collection[str] | None = None) -> str:
    """The end of an "unknown merge field {name}" sentence: a suggestion, or the fields there are."""
    custom = content.custom_field_hint(name, custom_columns)
    if custom:
        return custom
    folded = name.strip().casefold().replace(" ", "_").replace("-", "_")
    if folded.startswith(content.CUSTOM_PREFIX) and name.strip()[len(content.CUSTOM_PREFIX) :].strip():
        return f"; did you mean {{{content.CUSTOM_PREFIX}{name.strip()[len(content.CUSTOM_PREFIX) :].strip()}}}?"
    close = difflib.get_close_matches(folded, content.MERGE_FIELDS, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {{{close[0]}}}?"
    known = ", ".join(f"{{{field}}}" for field in content.MERGE_FIELDS)
    return f"; the fields are {known}, and {{custom.<column>}} for a column of the imported file"


def message_previews(
    *,
    messages: dict[str, str | None],
    lead,
    company_name: str,
    agent_name: str,
    booking_link: str,
    auto_append_opt_out: bool,
    custom_columns: Collection[str] | None = None,
) -> list[MessagePreview]:
    return [
        message_preview(
            step,
            messages.get(step) or "",
            lead=lead,
            company_name=company_name,
            agent_name=agent_name,
            booking_link=booking_link,
            auto_append_opt_out=auto_append_opt_out,
            custom_columns=custom_columns,
        )
        for step in STEPS
    ]


def message_preview(
    step: str,
    template: str,
    *,
    lead,
    company_name: str,
    agent_name: str,
    booking_link: str,
    auto_append_opt_out: bool,
    custom_columns: Collection[str] | None = None,
) -> MessagePreview:
    if not template.strip():
        warnings = ("M1 is missing: a campaign needs at least its first message.",) if step == "M1" else ()
        notes = () if step == "M1" else (f"Empty: no {step} is sent.",)
        return MessagePreview(step, "", "GSM-7", 0, 0, warnings, notes)
    rendered = content.render(
        template, lead=lead, company_name=company_name, agent_name=agent_name, booking_link=booking_link
    )
    body = content.with_opt_out(rendered, auto_append=auto_append_opt_out)
    counted = content.segments(body)
    warnings, notes = [], []
    for name in content.unknown_merge_fields(template, custom_columns=custom_columns):
        sentence = f"Unknown merge field {{{name}}}{merge_field_hint(name, custom_columns)}"
        warnings.append(
            f"{sentence}{'' if sentence.endswith('?') else '.'} It would be sent as typed, "
            "and the campaign can't start."
        )
    if not content.has_opt_out(template):
        if auto_append_opt_out:
            notes.append(f'No STOP in the text: "{content.OPT_OUT_LINE}" is added at the end (counted here).')
        else:
            warnings.append(
                'No opt-out instruction: add the word STOP ("Reply STOP to opt out") or turn on the '
                "automatic opt-out line (PECR)."
            )
    if not content.names_sender(template, company_name):
        warnings.append(f"Doesn't name the sender: add {{company_name}} or “{company_name}” (PECR).")
    if step == "M1" and _LINK_RE.search(template):
        warnings.append(
            "M1 contains a link: UK recipients are told to distrust texts with links. "
            "Send the booking link only after they reply yes."
        )
    if counted.encoding == "UCS-2":
        odd = "".join(dict.fromkeys(char for char in body if char not in _GSM7))
        warnings.append(
            f"UCS-2 because of {odd}: each part holds 70 characters instead of 160. "
            "Emoji and most accented letters have no GSM-7 equivalent."
        )
    if content.to_gsm7(template) != template:
        notes.append(
            "Smart quotes, long dashes, ellipses and unusual spaces are replaced by plain GSM-7 characters "
            "automatically: the text shown is what is sent."
        )
    return MessagePreview(
        step, body, counted.encoding, counted.characters, counted.segments, tuple(warnings), tuple(notes)
    )


_GSM7 = content.GSM7_BASIC | content.GSM7_EXTENDED
