"""A lead's rights (docs/security.md §5): erasure and the subject access export, in one place.

It lives in sophie, the highest app whose data it touches (insights and lessons quote texts).
Erasure keeps the lead row (so datasets keep their figures) with its number, which stays on the
suppression list in E.164 with source `erasure` so it is never texted again; everything else a
person wrote or that names them is cleared, and an `erased` event records who did it and when.
"""

import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q

from campaigns.models import Conversation, InboundSms, Message, MessageStatusEvent
from clients.models import Notification, User
from clients.storage import bucket_storage, client_prefix
from leads.models import Lead, LeadEvent, Suppression, Upload
from leads.retention import files_under
from leads.selectors import lead_timeline
from sophie.models import AiReply, Insight, Lesson

ERASED = "[erased]"


def _leads(phone_number: str | None, lead: Lead | None):
    if lead is not None:
        return Lead.objects.filter(pk=lead.pk)
    return Lead.objects.filter(phone_number=phone_number)


@transaction.atomic
def lead_erase(*, actor: User | None, at: datetime, phone_number: str | None = None, lead: Lead | None = None) -> dict:
    """Erases one lead, or every lead with a number; returns what was erased (also kept on the event)."""
    leads = list(_leads(phone_number, lead).select_for_update())
    numbers = {one.phone_number for one in leads} | ({phone_number} if phone_number else set())
    messages = Message.objects.filter(Q(lead__in=leads) | Q(to_number__in=numbers) | Q(from_number__in=numbers))
    message_ids = list(messages.values_list("pk", flat=True))
    texts = [t for t in messages.exclude(content="").values_list("content", flat=True)]
    inbound = InboundSms.objects.filter(Q(lead__in=leads) | Q(from_number__in=numbers))
    texts += [t for t in inbound.exclude(body="").values_list("body", flat=True)]

    done = {
        "leads": len(leads),
        "messages": messages.update(content=ERASED, error_message=None, ai_feedback=None, classification=None),
        "inbound_texts": inbound.update(body=ERASED, params={}, media=[]),
        "status_callbacks": MessageStatusEvent.objects.filter(message_id__in=message_ids).update(payload={}),
        "ai_replies": AiReply.objects.filter(message_id__in=message_ids).update(
            attempts=[], reason="", original_text=""
        ),
        "events": LeadEvent.objects.filter(lead__in=leads).update(data={}),
        "insights": _insights_erase(leads, message_ids, texts),
        "lessons": _lessons_erase(message_ids, texts),
        # The bell's rows name the lead (public schema, by id): they go entirely.
        "notifications": Notification.objects.filter(lead_id__in=[one.pk for one in leads]).delete()[0],
    }
    Conversation.objects.filter(lead__in=leads).update(handoff_reason="", sentiment=None)
    Lead.objects.filter(pk__in=[one.pk for one in leads]).update(
        first_name=ERASED,
        last_name=None,
        email=None,
        postcode=None,
        notes=None,
        custom_fields={},
        latest_lead_reply=None,
        conversation_summary=None,
        cal_booking_url=None,
        archived=True,
        archived_at=at,
        contact_status=Lead.ContactStatus.REMOVED,
        next_step=None,
        due_at=None,
    )
    for number in numbers:
        Suppression.objects.update_or_create(
            phone_number=number, defaults={"source": Suppression.Source.ERASURE, "reason": "", "created_by": actor}
        )
    done["files"] = _files_erase(leads, numbers, at)
    for one in leads:
        LeadEvent.objects.create(lead=one, event_type=LeadEvent.Type.ERASED, actor=actor, data={"erased": done})
    return done


def _insights_erase(leads, message_ids, texts) -> int:
    insights = Insight.objects.filter(
        Q(message_id__in=message_ids) | Q(conversation__lead__in=leads) | _quoting(texts, "original_text")
    )
    return insights.update(original_text=ERASED, suggested_text=None, user_feedback=None, description=ERASED)


def _lessons_erase(message_ids, texts) -> int:
    lessons = Lesson.objects.filter(
        Q(source_message_id__in=message_ids) | _quoting(texts, "trigger") | _quoting(texts, "incorrect_response")
    )
    return lessons.update(example_conversation=None, trigger=ERASED, incorrect_response=None)


def _quoting(texts, field: str) -> Q:
    query = Q(pk__in=[])
    for text in {t for t in texts if len(t) >= 8 and t != ERASED}:
        query |= Q(**{f"{field}__contains": text})
    return query


def _files_erase(leads, numbers, at) -> int:
    """Stored files that hold the person: their datasets' uploads, and exports that name the number."""
    count = 0
    uploads = bucket_storage("csv_uploads")
    for upload in Upload.objects.filter(dataset__in={one.dataset_id for one in leads}, file_expired_at=None):
        if upload.file_url and uploads.exists(upload.file_url):
            uploads.delete(upload.file_url)
            count += 1
        Upload.objects.filter(pk=upload.pk).update(file_expired_at=at)
    exports = bucket_storage("exports")
    for path in list(files_under(exports, client_prefix())):
        with exports.open(path, "rb") as handle:
            content = handle.read()
        if any(number.encode() in content for number in numbers):
            exports.delete(path)
            count += 1
    return count


def lead_data_export(*, phone_number: str | None = None, lead: Lead | None = None) -> str:
    """A subject access export: every lead with the number, their messages, texts and timeline, as JSON."""
    leads = list(_leads(phone_number, lead))
    numbers = {one.phone_number for one in leads} | ({phone_number} if phone_number else set())
    fields = [
        "first_name",
        "last_name",
        "phone_number",
        "email",
        "postcode",
        "inquiry_date",
        "notes",
        "custom_fields",
        "contact_status",
        "created_at",
    ]
    data = {
        "phone_numbers": sorted(numbers),
        "leads": [
            {
                **{name: getattr(one, name) for name in fields},
                "dataset": one.dataset.name,
                "messages": list(
                    Message.objects.filter(lead=one)
                    .order_by("created_at")
                    .values("created_at", "direction", "content", "status", "from_number", "to_number")
                ),
                "timeline": [
                    {"created_at": e.created_at, "event_type": e.event_type, "data": e.data}
                    for e in reversed(lead_timeline(one))  # with the import, read from the upload
                ],
            }
            for one in leads
        ],
        "inbound_texts": list(
            InboundSms.objects.filter(from_number__in=numbers).order_by("received_at").values("received_at", "body")
        ),
        "suppressed": list(Suppression.objects.filter(phone_number__in=numbers).values("phone_number", "source")),
    }
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
