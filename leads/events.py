"""A lead's timeline: one small function per event type (saleor's order/events.py pattern)."""

import json
from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.db.models import F, QuerySet

from clients.models import User
from leads.models import Lead, LeadEvent

Type = LeadEvent.Type


def _event(lead: Lead, event_type: str, actor: User | None = None, **data) -> LeadEvent:
    return LeadEvent.objects.create(lead=lead, event_type=event_type, actor=actor, data=data)


def leads_imported(lead_ids: Iterable, *, upload_id=None, actor: User | None = None) -> int:
    """Bulk form for imports: one event row per created lead, in one INSERT."""
    data = {"upload_id": str(upload_id)} if upload_id else {}
    events = [LeadEvent(lead_id=lead_id, event_type=Type.IMPORTED, actor=actor, data=data) for lead_id in lead_ids]
    return len(LeadEvent.objects.bulk_create(events, batch_size=5000))


def lead_import_entry(lead: Lead) -> LeadEvent | None:
    """The "imported" entry of a lead a file import created, read from its upload rather than stored: an
    import writes no event row per lead (docs/importing.md). Unsaved; None for a lead no import made."""
    from leads.models import Upload

    if lead.upload_id is None:
        return None
    upload = Upload.objects.select_related("imported_by").filter(pk=lead.upload_id).first()
    if upload is None:
        return None
    return LeadEvent(
        lead=lead,
        event_type=Type.IMPORTED,
        actor=upload.imported_by,
        data={"upload_id": str(upload.pk), "row": lead.row_number, "filename": upload.filename},
        created_at=lead.created_at,
    )


def leads_merged_sql(rows_sql: str, *, upload_id, actor: User | None = None) -> int:
    """One `merged` event per (lead id, file row) that `rows_sql` selects (leads an import merged rows into)."""
    return _events_from_sql(rows_sql, Type.MERGED, actor, "row", upload_id=str(upload_id))


def numbers_suppressed_sql(rows_sql: str, *, source: str) -> int:
    """Bulk form of number_suppressed: one event per (lead id, reason) that `rows_sql` selects."""
    return _events_from_sql(rows_sql, Type.SUPPRESSED, None, "reason", source=source)


def _events_from_sql(rows_sql: str, event_type: str, actor: User | None, key: str, **data) -> int:
    """One `event_type` event per (lead id, value) row of `rows_sql`; the value joins `data` under `key`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {LeadEvent._meta.db_table} (id, created_at, lead_id, event_type, actor_id, data)
            SELECT gen_random_uuid(), now(), lead_id, %s, %s, %s::jsonb || jsonb_build_object(%s::text, value)
            FROM ({rows_sql}) AS source (lead_id, value)
            """,
            [event_type, actor.pk if actor else None, json.dumps(data), key],
        )
        return cursor.rowcount


def lead_imported(lead: Lead, *, upload_id=None, actor: User | None = None) -> LeadEvent:
    return _event(lead, Type.IMPORTED, actor, **({"upload_id": str(upload_id)} if upload_id else {}))


def lead_merged(lead: Lead, *, fields: list[str], upload_id=None, actor: User | None = None) -> LeadEvent:
    return _event(lead, Type.MERGED, actor, fields=fields, upload_id=str(upload_id) if upload_id else None)


def messages_queued(messages: Iterable) -> int:
    """Bulk form for the tick: one event per outbox message, in one INSERT."""
    events = [
        LeadEvent(lead_id=message.lead_id, event_type=Type.QUEUED, data={"message_id": str(message.pk), "step": step})
        for message in messages
        if (step := message.message_type)
    ]
    return len(LeadEvent.objects.bulk_create(events))


def message_queued(lead: Lead, *, message_id, step: str) -> LeadEvent:
    return _event(lead, Type.QUEUED, message_id=str(message_id), step=step)


def message_sent(lead: Lead, *, message_id, step: str | None, sid: str | None) -> LeadEvent:
    return _event(lead, Type.SENT, message_id=str(message_id), step=step, sid=sid)


def message_delivered(lead: Lead, *, message_id, sid: str) -> LeadEvent:
    return _event(lead, Type.DELIVERED, message_id=str(message_id), sid=sid)


def message_failed(lead: Lead, *, message_id, error_code: str | None, reason: str) -> LeadEvent:
    return _event(lead, Type.FAILED, message_id=str(message_id), error_code=error_code, reason=reason)


def cadence_left(leads: QuerySet, *, reason: str, at: datetime) -> int:
    """Bulk form: one event per lead of `leads`, in one INSERT … SELECT however many there are."""
    select, params = leads.values(leaving_id=F("pk")).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {LeadEvent._meta.db_table} (lead_id, event_type, data, created_at) "
            f"SELECT leaving.leaving_id, %s, %s::jsonb, %s FROM ({select}) AS leaving",
            [Type.CADENCE_LEFT, json.dumps({"reason": reason}), at, *params],
        )
        return cursor.rowcount


def lead_replied(lead: Lead, *, message_id, text: str) -> LeadEvent:
    return _event(lead, Type.REPLIED, message_id=str(message_id), text=text[:500])


def status_changed(lead: Lead, *, old: str, new: str, actor: User | None = None, reason: str = "") -> LeadEvent:
    return _event(lead, Type.STATUS_CHANGED, actor, old=old, new=new, reason=reason)


def lead_assigned(lead: Lead, *, assignee: User | None, actor: User | None = None, reason: str = "") -> LeadEvent:
    return _event(
        lead,
        Type.ASSIGNED,
        actor,
        assignee_id=str(assignee.pk) if assignee else None,
        assignee=assignee.get_full_name() if assignee else None,
        reason=reason,
    )


def manual_mode_changed(lead: Lead, *, enabled: bool, actor: User | None = None) -> LeadEvent:
    return _event(lead, Type.MANUAL_MODE, actor, enabled=enabled)


def number_suppressed(lead: Lead, *, source: str, reason: str = "", actor: User | None = None) -> LeadEvent:
    return _event(lead, Type.SUPPRESSED, actor, source=source, reason=reason)


def lead_archived(lead: Lead, *, reason: str = "", actor: User | None = None) -> LeadEvent:
    return _event(lead, Type.ARCHIVED, actor, reason=reason)


def call_booked(lead: Lead, *, booking_id: str, start: str | None, actor: User | None = None) -> LeadEvent:
    return _event(lead, Type.CALL_BOOKED, actor, booking_id=booking_id, start=start)


def note_added(lead: Lead, *, text: str, actor: User | None = None) -> LeadEvent:
    return _event(lead, Type.NOTE, actor, text=text)


def lead_handed_off(lead: Lead, *, reason: str, message_id=None) -> LeadEvent:
    return _event(lead, Type.HANDOFF, reason=reason, message_id=str(message_id) if message_id else None)


def handoff_cleared(lead: Lead, *, actor: User | None) -> LeadEvent:
    return _event(lead, Type.HANDOFF_CLEARED, actor)


def ai_reply_written(lead: Lead, *, message_id, outcome: str, reason: str = "") -> LeadEvent:
    return _event(lead, Type.AI_REPLY, message_id=str(message_id), outcome=outcome, reason=reason)


def lead_unarchived(lead: Lead, *, actor: User | None = None) -> LeadEvent:
    return _event(lead, Type.UNARCHIVED, actor)


def call_unbooked(lead: Lead, *, actor: User | None = None, reason: str = "") -> LeadEvent:
    return _event(lead, Type.CALL_UNBOOKED, actor, reason=reason)
