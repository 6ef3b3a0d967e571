"""What an import did, row by row in outline: the counts, and up to DETAIL_LIMIT examples of each outcome."""

from dataclasses import asdict, dataclass, field

DETAIL_LIMIT = 1000  # per kind of outcome kept on the upload; the CSV holds every rejected row
KINDS = ("rejected", "skipped", "merged", "flagged_duplicates", "not_sms_capable", "suppressed")
KIND_LABELS = {
    "rejected": "Rejected",
    "skipped": "Skipped",
    "merged": "Merged",
    "flagged_duplicates": "Flagged as duplicates",
    "not_sms_capable": "Can't receive SMS",
    "suppressed": "On the suppression list",
}


def summary_details(summary: dict | None) -> list[tuple[str, list]]:
    """(label, examples) of each kind of outcome a stored summary holds examples of, for people."""
    details = (summary or {}).get("details") or {}
    return [(KIND_LABELS.get(kind, kind), items) for kind, items in details.items() if items]


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    merged: int = 0
    skipped: int = 0
    rejected: int = 0
    flagged_duplicates: int = 0
    not_sms_capable: int = 0
    suppressed: int = 0
    rejected_file: str | None = None
    details: dict[str, list] = field(default_factory=lambda: {kind: [] for kind in KINDS})

    def note(self, kind: str, item: dict) -> None:
        """Keeps `item` as an example of `kind` unless DETAIL_LIMIT of them are kept already."""
        if len(self.details[kind]) < DETAIL_LIMIT:
            self.details[kind].append(item)

    def as_json(self) -> dict:
        return asdict(self)
