"""Each lead's story before it is written: its reply group, the texts the cadence sent, its fields."""

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from clients.models import User
from devtools.demo.greenstar import LEAD_COUNT, OLD_DATASET_NAME
from devtools.demo.people import inquiry_window, lead_new
from devtools.demo.replies import (
    CHECK_BACK_MONTHS,
    INTENT_BY_KEY,
    INTENTS,
    LATER_STATUSES,
    MESSAGED,
    OTHER_GROUPS,
    UNDELIVERED,
    S,
)
from devtools.demo.timing import call_slot, next_month, send_slots
from leads import events
from leads.models import Dataset, Lead, LeadEvent
from leads.services import dataset_create


@dataclass
class Plan:
    """One lead's story before it is written."""

    lead: Lead
    group: str  # an Intent key, "silent", or one of OTHER_GROUPS
    variant: int = 0
    reply_step: int = 0
    sends: list = field(default_factory=list)  # (step, sent_at)
    undelivered: tuple | None = None


def old_dataset_create(rng: random.Random, owner: User, numbers: list[str], imported: datetime):
    dataset = dataset_create(
        name=OLD_DATASET_NAME,
        uploaded_by=owner,
        source="Facebook lead ads export",
        description="Leads from the 2022 Facebook ads; not contacted yet.",
    )
    created = imported - timedelta(days=140)
    Dataset.objects.filter(pk=dataset.pk).update(created_at=created)
    used: set = set()
    leads = [
        lead_new(rng, dataset, phone, used, date(2022, rng.randint(3, 10), rng.randint(1, 28)), created, row)
        for row, phone in enumerate(numbers, start=2)
    ]
    Lead.objects.bulk_create(leads)
    events.leads_imported([lead.pk for lead in leads], actor=owner)
    LeadEvent.objects.filter(lead__dataset=dataset).update(created_at=created)
    return dataset, leads


def plans_new(
    rng: random.Random, dataset: Dataset, numbers: list[str], original: Lead, now: datetime, imported: datetime
) -> list[Plan]:
    groups = [(i.key, i.count) for i in INTENTS] + OTHER_GROUPS
    labels = [key for key, count in groups for _ in range(count)]
    labels += ["silent"] * (LEAD_COUNT - len(labels))
    rng.shuffle(labels)
    oldest, newest = inquiry_window(now)
    used: set = set()
    plans, seen = [], Counter()
    for row, (label, phone) in enumerate(zip(labels, numbers, strict=True), start=2):
        inquiry = oldest + timedelta(days=rng.randint(0, (newest - oldest).days))
        lead = lead_new(rng, dataset, phone, used, inquiry, imported, row)
        plan = Plan(lead=lead, group=label, variant=seen[label])
        seen[label] += 1
        if label == "duplicate":
            lead.first_name, lead.last_name, lead.email = original.first_name, original.last_name, original.email
            lead.phone_number, lead.is_duplicate, lead.duplicate_of = original.phone_number, True, original
        elif label == "landline":
            lead.sms_capable, lead.sms_capable_reason = False, "Landline (not a mobile)"
        elif label == "undelivered":
            plan.undelivered = UNDELIVERED[plan.variant % len(UNDELIVERED)]
        elif label in INTENT_BY_KEY:
            plan.reply_step = rng.choices([1, 2, 3], weights=[60, 25, 15])[0]
            if INTENT_BY_KEY[label].scripts[plan.variant][0][1] == "YES":
                plan.reply_step = 3  # "reply YES and I'll book a quick call" is M3's line
        plans.append(plan)
    return plans


def cadence_simulate(
    rng: random.Random, plans: list[Plan], start: datetime, paused: datetime, *, per_hour: int
) -> None:
    """Runs the cadence as the tick would: M1 due at the start, M2 48 h after M1, M3 72 h after M2,
    each waiting for the weekday window, earliest due first, at most `per_hour` sends an hour."""
    queue = [(start, index, 1) for index, plan in enumerate(plans) if plan.group in MESSAGED]
    heapq.heapify(queue)
    delays = {1: timedelta(hours=48), 2: timedelta(hours=72)}
    for slot in send_slots(start, paused, per_hour):
        if not queue or queue[0][0] > slot:
            continue
        _, index, step = heapq.heappop(queue)
        plan = plans[index]
        sent = slot + timedelta(seconds=rng.randint(0, 50))
        plan.sends.append((step, sent))
        if plan.undelivered or step == plan.reply_step or step == 3:
            continue
        heapq.heappush(queue, (sent + delays[step], index, step + 1))
    for plan in plans:
        if plan.reply_step:  # a reply planned after a step the pause never reached comes after the last one
            plan.reply_step = min(plan.reply_step, len(plan.sends))


def leads_finish(rng: random.Random, plans: list[Plan], now: datetime, paused: datetime, rep: User) -> dict:
    """Sets each lead's denormalised fields from its story; returns per-lead extras for the thread."""
    extras, booked, later = {}, 0, 0
    for plan in plans:
        lead, intent = plan.lead, INTENT_BY_KEY.get(plan.group)
        for step, sent in plan.sends:
            setattr(lead, f"m{step}_sent_at", sent)
        if plan.sends:
            lead.contact_status = f"CONTACTED_{len(plan.sends)}"
        extra: dict = {}
        if plan.group == "ready":
            lead.created_at = paused + timedelta(days=1, hours=2)
            lead.notes = "Added by hand from the 2023 phone-enquiry book."
            lead.next_step, lead.due_at = Lead.Step.M1, lead.created_at
        elif plan.group == "archived":
            lead.contact_status, lead.archived = S.ARCHIVED, True
            lead.archived_at = lead.created_at + timedelta(days=1, hours=3)
            lead.notes = "Rang in to say they had panels fitted by another installer."
        elif plan.group == "undelivered":
            lead.sms_capable, lead.sms_capable_reason = False, plan.undelivered[2]
        elif plan.group == "silent" and len(plan.sends) < 3:
            step, sent = plan.sends[-1]
            lead.next_step = f"M{step + 1}"
            lead.due_at = sent + timedelta(hours=48 if step == 1 else 72)
        elif intent:
            lead.contact_status = intent.status or lead.contact_status
            lead.lead_sentiment = intent.sentiment
            lead.conversation_summary = intent.summary
            if intent.key == "later":
                month = next_month(now, CHECK_BACK_MONTHS[later % 3])
                lead.contact_status = LATER_STATUSES[later % 3]
                lead.conversation_summary = intent.summary.format(check_back=month.strftime("%B %Y"))
                extra["check_back"] = month
                later += 1
            if intent.booked:
                slot = call_slot(now, booked)
                booked += 1
                uid = "".join(
                    rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(22)
                )
                lead.call_booked, lead.call_booked_time, lead.cal_booking_id = True, slot, uid
                lead.cal_booking_url = f"https://cal.com/booking/{uid}"
                extra["call_day"] = slot.strftime("%A %-d %B at %H:%M")
            if intent.hand_over or intent.booked or intent.key == "interested":
                lead.assigned_to = rep
            if intent.hand_over:
                lead.manual_mode = True
        extras[lead.pk] = extra
    return extras
