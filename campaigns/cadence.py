"""The tick: who is due, within the window and the rate limits, becomes an outbox row.

Cost follows the work due: per dataset one indexed range scan over (dataset, due_at).
The tick holds a per-client advisory lock, so two ticks at once never queue twice (the
unique (lead, message_type) outbox constraint is the second guard).
"""

import heapq
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q

from campaigns import content, pacing
from campaigns.inbound import inbound_process_pending
from campaigns.models import Conversation, Message
from campaigns.numbers import sending_number
from campaigns.outbox.reconcile import message_reconcile, messages_interrupted_mark
from campaigns.outbox.send import message_send
from campaigns.schedule import in_quiet_hours, is_open, window_from_settings
from campaigns.services import campaign_complete
from clients.access import current_client
from clients.models import Client
from leads import events
from leads.bookings import lead_booking_link
from leads.eligibility import Purpose
from leads.models import CampaignSettings, Dataset, Lead, Suppression
from leads.services import lead_leave_cadence

STEPS = ("M1", "M2", "M3")
STUCK_PENDING = timedelta(minutes=5)
MAX_PER_TICK = 10_000  # with no limit set, still a bounded batch per tick


def tick_every() -> timedelta:
    return timedelta(seconds=settings.DBR_CADENCE_TICK_SECONDS)


@dataclass
class TickResult:
    locked_out: bool = False
    queued: list = field(default_factory=list)  # message ids to send after commit
    not_before: dict = field(default_factory=dict)  # message id → its planned send time, when later than the tick
    resend: list = field(default_factory=list)  # pending messages due again (retries, lost tasks)
    reconcile: list = field(default_factory=list)  # unknown messages to look up at the provider
    completed: list = field(default_factory=list)

    def to_send(self, at: datetime) -> list:
        """The messages to send at `at`: queued or due again, and not planned for later."""
        return [pk for pk in [*self.queued, *self.resend] if self.not_before.get(pk, at) <= at]


def _lock_key(schema_name: str) -> int:
    # Advisory locks are database-wide: key by the client's schema.
    return zlib.crc32(f"dbr-tick:{schema_name}".encode()) - 2**31


def tick(*, at: datetime) -> TickResult:
    """One tick for the current client's schema at the instant `at`."""
    client = current_client()
    result = TickResult()
    if client.status != Client.Status.ACTIVE:
        return result
    # Replies first, each in its own transaction: a lead who answered leaves the cadence before
    # the steps are chosen, even when no worker processed the text.
    inbound_process_pending(at=at)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_key(client.schema_name)])
            if not cursor.fetchone()[0]:
                result.locked_out = True
                return result
        _sweep(at, result)
        for dataset in Dataset.objects.filter(
            campaign_status=Dataset.CampaignStatus.ACTIVE, archived=False
        ).select_related("campaign_settings"):
            _tick_dataset(dataset, client, at, result)
        _silence(at)
        _auto_archive(at)
    return result


def _tick_dataset(dataset: Dataset, client: Client, at: datetime, result: TickResult) -> None:
    options = dataset.campaign_settings
    if dataset.campaign_end_date and at >= dataset.campaign_end_date:
        campaign_complete(dataset=dataset, at=at, reason="The campaign's end date passed.")
        result.completed.append(dataset.pk)
        return
    if not _has_work(dataset):
        campaign_complete(dataset=dataset, at=at, reason="Every lead has been through the cadence.")
        result.completed.append(dataset.pk)
        return
    if options is None or not options.sending_enabled:
        return
    if dataset.campaign_start_date and at < dataset.campaign_start_date:
        return
    window = window_from_settings(options)
    open_now = is_open(window, at)
    if not open_now and (options.delay_respect_sending_hours or in_quiet_hours(at, window.tz)):
        return
    plan = _send_plan(options, at)
    if not plan:
        return
    due = Lead.objects.filter(dataset=dataset, due_at__lte=at)
    if not open_now:
        due = due.filter(next_step__in=["M2", "M3"])  # outside the window only follow-ups may go
    leads = list(due.order_by("due_at").select_for_update(skip_locked=True)[: len(plan)])
    slots = iter(plan)  # each text queued takes the next planned send time
    for message in _queue_steps(leads, dataset, options, client, at, slots):
        _planned(result, message, at)
    if open_now:
        for lead in _nudge_due(dataset, options, at)[: len(plan) - len(leads)]:
            message = _queue_nudge(lead, dataset, options, client, at, not_before=lambda: next(slots))
            if message:
                _planned(result, message, at)


def _planned(result: TickResult, message: Message, at: datetime) -> None:
    result.queued.append(message.pk)
    if message.next_attempt_at > at:
        result.not_before[message.pk] = message.next_attempt_at


CONTACTED = ["CONTACTED_1", "CONTACTED_2", "CONTACTED_3"]


def _waiting_for_nudge(dataset: Dataset, options: CampaignSettings | None):
    """Leads through the cadence, silent, and not nudged yet (when the nudge is on)."""
    if options is None or not options.silence_nudge_enabled or not options.silence_nudge_message:
        return Lead.objects.none()
    return (
        dataset.leads.messageable(purpose=Purpose.NUDGE)
        .filter(next_step__isnull=True, reply_received_at__isnull=True, contact_status__in=CONTACTED)
        .exclude(messages__message_type=Message.Type.NURTURE)
    )


def _nudge_due(dataset: Dataset, options: CampaignSettings, at: datetime):
    cutoff = at - timedelta(days=options.silence_nudge_days)
    return _waiting_for_nudge(dataset, options).filter(last_message_at__lte=cutoff).order_by("last_message_at")


def _queue_nudge(
    lead: Lead, dataset: Dataset, options: CampaignSettings, client: Client, at: datetime, *, not_before
) -> Message | None:
    """The silence nudge, sent once per lead when enabled (`_waiting_for_nudge` chose who may have it)."""
    conversation, _ = Conversation.objects.get_or_create(
        lead=lead, defaults={"dataset": dataset, "started_at": at, "last_message_at": at}
    )
    message = _outbox_message(
        lead,
        conversation,
        options,
        client,
        at,
        template=options.silence_nudge_message,
        message_type=Message.Type.NURTURE,
        not_before=not_before(),
    )
    message.save()
    events.message_queued(lead, message_id=message.pk, step="nudge")
    return message


def _has_work(dataset: Dataset) -> bool:
    busy = Message.objects.filter(lead__dataset=dataset, status__in=["pending", "sending", "unknown"])
    return (
        dataset.leads.filter(next_step__isnull=False).exists()
        or busy.exists()
        or _waiting_for_nudge(dataset, dataset.campaign_settings).exists()
    )


def _send_plan(options: CampaignSettings, at: datetime) -> list[datetime]:
    """When each text queued now may go, up to the next tick, within the rate limits."""
    limits = pacing.limits(options)
    if not limits:
        return [at] * MAX_PER_TICK
    horizon = at + tick_every()
    ahead, latest = pacing.waiting(options, horizon)
    room = min(limit for limit, _ in limits) - ahead
    if room <= 0:
        return []
    planned = pacing.slots(options, at, waiting=ahead, latest=latest, count=room)
    return [slot for slot in planned if slot and slot < horizon]


def _numbers_in_a_cadence(leads: list[Lead]) -> dict[str, set]:
    """For these leads' numbers: the leads already in a running cadence (M1 sent, a step to come)."""
    running = Lead.objects.filter(
        phone_number__in={lead.phone_number for lead in leads},
        m1_sent_at__isnull=False,
        next_step__isnull=False,
        dataset__campaign_status=Dataset.CampaignStatus.ACTIVE,
    ).values_list("phone_number", "pk")
    found: dict[str, set] = {}
    for number, pk in running:
        found.setdefault(number, set()).add(pk)
    return found


def _booking_link(lead: Lead, options: CampaignSettings, template: str) -> str:
    # The lead's short link (docs/bookings.md), given a token only when the text carries it.
    if "booking_link" not in content.merge_fields_in(template):
        return ""
    return lead_booking_link(lead=lead, cal_link=options.cal_booking_link)


def _outbox_message(
    lead: Lead,
    conversation: Conversation,
    options: CampaignSettings,
    client: Client,
    at: datetime,
    *,
    template: str,
    message_type: str,
    not_before: datetime,
) -> Message:
    """An unsaved pending outbound row with the template rendered for the lead (opt-out line appended
    if set), to be sent at `not_before` (the tick's plan under the rate limits)."""
    body = content.with_opt_out(
        content.render(
            template,
            lead=lead,
            company_name=client.company_name,
            agent_name=options.agent_name,
            booking_link=_booking_link(lead, options, template),
        ),
        auto_append=options.auto_append_opt_out,
    )
    return Message(
        conversation=conversation,
        lead=lead,
        content=body,
        direction="outbound",
        message_type=message_type,
        from_number=sending_number(options, client),
        to_number=lead.phone_number,
        status="pending",
        queued_at=at,
        next_attempt_at=not_before,
    )


def _conversation(lead: Lead, dataset: Dataset, at: datetime) -> Conversation:
    return Conversation(lead=lead, dataset=dataset, started_at=at, last_message_at=at)


def _queue_steps(
    leads: list[Lead], dataset: Dataset, options: CampaignSettings, client: Client, at: datetime, slots
) -> list[Message]:
    """Outbox rows for the due leads' next steps, in a few statements however many leads are due.

    Ineligible leads leave the cadence; an M1 whose number is in another running cadence waits a day;
    a step already in the outbox is not queued again (the tick's lock makes the check safe, and the
    unique (lead, message_type) constraint backs it).
    """
    if not leads:
        return []
    numbers = [lead.phone_number for lead in leads]
    suppressed = set(Suppression.objects.filter(phone_number__in=numbers).values_list("phone_number", flat=True))
    in_cadence = _numbers_in_a_cadence([lead for lead in leads if lead.next_step == "M1"])
    queued_before = set(
        Message.objects.filter(lead__in=leads, message_type__in=STEPS).values_list("lead_id", "message_type")
    )
    leaving, waiting, taken, steps = {}, [], [], []  # leaving: reason → lead ids
    for lead in leads:
        step = lead.next_step
        template = getattr(options, f"{step.lower()}_message", None) if step in STEPS else None
        reason = lead.not_messageable_reason(purpose=Purpose.CADENCE, suppressed=lead.phone_number in suppressed)
        if reason or not template:
            leaving.setdefault(reason or f"no {step} message is set", []).append(lead.pk)
            continue
        if step == "M1" and in_cadence.get(lead.phone_number, set()) - {lead.pk}:
            waiting.append(lead.pk)
            continue
        taken.append(lead.pk)
        if (lead.pk, step) not in queued_before:
            steps.append((lead, step, template))
    # A reply may have opened a conversation meanwhile: create what is missing, then read them all.
    Conversation.objects.bulk_create([_conversation(lead, dataset, at) for lead, _, _ in steps], ignore_conflicts=True)
    conversations = {c.lead_id: c for c in Conversation.objects.filter(lead__in=[lead for lead, _, _ in steps])}
    messages = [
        _outbox_message(
            lead, conversations[lead.pk], options, client, at,
            template=template, message_type=step, not_before=next(slots),
        )
        for lead, step, template in steps
    ]  # fmt: skip
    Message.objects.bulk_create(messages)
    for reason, lead_ids in leaving.items():  # a handful of reasons at most
        lead_leave_cadence(leads=Lead.objects.filter(pk__in=lead_ids), reason=reason, at=at)
    Lead.objects.filter(pk__in=waiting).update(due_at=at + timedelta(days=1))
    Lead.objects.filter(pk__in=taken).update(due_at=None)
    events.messages_queued(messages)
    return messages


def _sweep(at: datetime, result: TickResult) -> None:
    """Messages a lost task or a dead worker left behind."""
    messages_interrupted_mark(at=at)
    result.resend += list(
        Message.objects.filter(status="pending", next_attempt_at__lte=at - STUCK_PENDING).values_list("pk", flat=True)[
            :1000
        ]
    )
    # Retries, and texts planned or held back for later (rate limit, window) whose time has come.
    # Under Celery their own delayed task usually comes first; a second task finds them sent.
    result.resend += list(
        Message.objects.filter(status="pending", next_attempt_at__lte=at)
        .filter(Q(attempts__gt=0) | Q(next_attempt_at__gt=F("queued_at")))
        .exclude(pk__in=result.resend)
        .values_list("pk", flat=True)[:1000]
    )
    result.reconcile += list(
        Message.objects.filter(status="unknown", next_attempt_at__lte=at).values_list("pk", flat=True)[:1000]
    )


def _silence(at: datetime) -> None:
    """After the last step and `silence_timeout_days` without a reply, the lead goes cold."""
    datasets = Dataset.objects.filter(archived=False, campaign_settings__isnull=False).select_related(
        "campaign_settings"
    )
    for dataset in datasets:
        days = dataset.campaign_settings.silence_timeout_days
        leads = dataset.leads.filter(
            next_step__isnull=True,
            reply_received_at__isnull=True,
            contact_status__in=CONTACTED,
            last_message_at__lte=at - timedelta(days=days),
        ).exclude(messages__status__in=["pending", "sending", "unknown"])
        for lead in leads[:1000]:
            old = lead.contact_status
            Lead.objects.filter(pk=lead.pk).update(contact_status=Lead.ContactStatus.COLD)
            Conversation.objects.filter(lead=lead).update(status=Conversation.Status.ARCHIVED)
            events.status_changed(lead, old=old, new="COLD", reason=f"No reply in {days} days")


def _auto_archive(at: datetime) -> None:
    for dataset in Dataset.objects.filter(
        campaign_status=Dataset.CampaignStatus.COMPLETED, archived=False, campaign_end_date__isnull=False
    ):
        if dataset.campaign_end_date + timedelta(days=dataset.auto_archive_after_days) <= at:
            Dataset.objects.filter(pk=dataset.pk).update(archived=True, archived_at=at)


@dataclass
class CadenceRun:
    tick: TickResult
    sent: Counter = field(default_factory=Counter)  # send outcome → how many
    reconciled: Counter = field(default_factory=Counter)  # reconciliation outcome → how many


PUT_OFF_AGAIN = 3  # in one run, a text put off by the window or the limits is tried again at most this often


def cadence_run_in_process(*, at: datetime, send: bool = True, real_time: bool = False) -> CadenceRun:
    """One tick, then (unless `send` is off) its reconciliations and sends in this process, without Celery:
    for the run_cadence command and the tests.

    Unknown texts are looked up first, so one found absent is sent again in the same run. Then every text
    the tick planned before its horizon (the next tick) is sent at its planned slot, in slot order, with
    the clock injected at that slot: a per-minute limit spaces them out, it never leaves them unsent.
    With `real_time` (no injected clock) it also waits for each slot, so the provider sees the planned pace.
    """
    started = time.monotonic()
    run = CadenceRun(tick=tick(at=at))
    if run.tick.locked_out or not send:
        return run
    for message_id in run.tick.reconcile:
        run.reconciled[message_reconcile(message_id=message_id, at=at)] += 1
    horizon = at + tick_every()
    absent = [pk for pk in run.tick.reconcile if _pending_due(pk, at)]
    planned = [
        (run.tick.not_before.get(pk, at), n, pk) for n, pk in enumerate([*run.tick.queued, *run.tick.resend, *absent])
    ]
    planned = [entry for entry in planned if entry[0] < horizon]
    heapq.heapify(planned)
    tries = Counter()
    while planned:
        slot, n, message_id = heapq.heappop(planned)
        if real_time:
            time.sleep(max(0.0, (slot - at).total_seconds() - (time.monotonic() - started)))
        outcome = message_send(message_id=message_id, at=max(slot, at))
        run.sent[outcome.word] += 1
        tries[message_id] += 1
        later = outcome.retry_at
        if later and later < horizon and tries[message_id] < PUT_OFF_AGAIN:
            heapq.heappush(planned, (later, n, message_id))
    return run


def _pending_due(message_id, at: datetime) -> bool:
    return Message.objects.filter(pk=message_id, status=Message.Status.PENDING, next_attempt_at__lte=at).exists()
