"""The client's suppression list: numbers never to be texted again."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clients.models import User
from leads import events
from leads.happenings import Happening, lead_happened
from leads.importing.mapping import guess_mapping
from leads.importing.reading import ImportFileError, open_table
from leads.models import Lead, Suppression
from leads.phones import normalise_phone


@dataclass
class OptOutSummary:
    rows: int = 0
    added: int = 0
    already: int = 0
    invalid: int = 0
    leads_removed: int = 0
    problems: list[dict] = field(default_factory=list)


def suppression_add(*, phone_number: str, source: str, reason: str = "", actor: User | None = None) -> Suppression:
    """Suppresses a number client-wide and removes the leads that have it."""
    with transaction.atomic():
        suppression, _ = Suppression.objects.get_or_create(
            phone_number=phone_number, defaults={"source": source, "reason": reason, "created_by": actor}
        )
        _remove_leads([phone_number], source=source, reason=reason, actor=actor)
    return suppression


def numbers_suppress(*, numbers: list[str], source: str, reason: str = "", actor: User | None = None) -> int:
    """Suppresses many numbers at once (those already listed keep their row) and removes the leads that
    have them; returns the leads removed. Bulk form of `suppression_add`."""
    with transaction.atomic():
        Suppression.objects.bulk_create(
            [Suppression(phone_number=n, source=source, reason=reason, created_by=actor) for n in sorted(set(numbers))],
            ignore_conflicts=True,
        )
        return _remove_leads(sorted(set(numbers)), source=source, reason=reason, actor=actor)


def suppression_remove(*, phone_number: str) -> int:
    """Lifts a suppression; removed leads stay removed (staff re-open them one by one)."""
    deleted, _ = Suppression.objects.filter(phone_number=phone_number).delete()
    return deleted


def _remove_leads(numbers: list[str], *, source: str, reason: str, actor: User | None) -> int:
    leads = list(Lead.objects.filter(phone_number__in=numbers).exclude(contact_status=Lead.ContactStatus.REMOVED))
    for lead in leads:
        old = lead.contact_status
        lead.contact_status, lead.due_at, lead.next_step = Lead.ContactStatus.REMOVED, None, None
        lead.updated_at = timezone.now()
        events.number_suppressed(lead, source=source, reason=reason, actor=actor)
        events.status_changed(lead, old=old, new=lead.contact_status, actor=actor, reason="number suppressed")
        lead_happened(lead=lead, kind=Happening.OPTED_OUT, at=lead.updated_at, data={"source": source})
    Lead.objects.bulk_update(leads, ["contact_status", "due_at", "next_step", "updated_at"], batch_size=1000)
    return len(leads)


def opt_out_list_import(*, path: str, filename: str, actor: User | None) -> OptOutSummary:
    """Numbers that opted out elsewhere join the suppression list; matching leads are removed."""
    table = open_table(path, filename=filename)
    phone_columns = [h for h, f in guess_mapping(table.headers).items() if f == "phone_number"]
    if not phone_columns and len(table.headers) != 1:
        raise ImportFileError("No column looks like a phone number. Name it 'Phone' or 'Mobile', or upload one column.")
    column = table.headers.index(phone_columns[0] if phone_columns else table.headers[0])
    summary, numbers = OptOutSummary(), set()
    for line, cells in enumerate(table.rows(), start=2):
        summary.rows += 1
        raw = cells[column] if column < len(cells) else ""
        result = normalise_phone(raw, allow_international=True, allow_fiction=settings.DBR_ALLOW_FICTION_NUMBERS)
        if result.e164 is None:
            summary.invalid += 1
            if len(summary.problems) < 1000:
                summary.problems.append({"row": line, "value": raw, "reason": result.reason})
        else:
            numbers.add(result.e164)
    with transaction.atomic():
        existing = set(Suppression.objects.filter(phone_number__in=numbers).values_list("phone_number", flat=True))
        Suppression.objects.bulk_create(
            [
                Suppression(
                    phone_number=n,
                    source=Suppression.Source.IMPORT,
                    reason=f"Opt-out list {filename}",
                    created_by=actor,
                )
                for n in sorted(numbers - existing)
            ],
            ignore_conflicts=True,
        )
        summary.added, summary.already = (
            len(numbers - existing),
            summary.rows - summary.invalid - len(numbers - existing),
        )
        summary.leads_removed = _remove_leads(
            sorted(numbers), source=Suppression.Source.IMPORT, reason=f"Opt-out list {filename}", actor=actor
        )
    return summary


OPT_OUT_SOURCES = (Suppression.Source.OPT_OUT, Suppression.Source.TWILIO_21610)


def suppression_lift_opt_out(*, phone_number: str, reason: str) -> int:
    """Deletes an opt-out suppression (never an imported, staff or erasure one) and gives each lead that
    it removed back the status it had before; the cadence does not resume. Returns the leads restored."""
    deleted, _ = Suppression.objects.filter(phone_number=phone_number, source__in=OPT_OUT_SOURCES).delete()
    if not deleted or Suppression.objects.filter(phone_number=phone_number).exists():
        return 0
    restored = 0
    for lead in Lead.objects.filter(phone_number=phone_number, contact_status=Lead.ContactStatus.REMOVED):
        removal = (
            lead.events.filter(event_type=events.Type.STATUS_CHANGED, data__new=Lead.ContactStatus.REMOVED)
            .order_by("-created_at")
            .first()
        )
        before = removal.data.get("old") if removal else None
        if before and before != Lead.ContactStatus.REMOVED:
            lead.contact_status = before
            lead.save(update_fields=["contact_status", "updated_at"])
            events.status_changed(lead, old=Lead.ContactStatus.REMOVED, new=before, reason=reason)
            restored += 1
    return restored
