"""Nightly patterns per dataset, computed from the messages themselves (docs/learning.md): reply rate by
cadence step, opt-out rate above a threshold, carrier filtering spikes, time-of-day effects, and
cadence texts that went without an opt-out line. Each pattern is one insight per dataset, refreshed while
it stays open; below the minimum counts nothing is said (a rate of 2 texts is noise).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Min, OuterRef, Q, Subquery

from campaigns.models import Message
from campaigns.outbox.codes import Kind, codes_of
from leads.models import Dataset
from sophie.insights.review import insight_record
from sophie.insights.rules import CADENCE_STEPS, MessageFacts, check_opt_out_line
from sophie.models import Insight

WINDOW = timedelta(days=30)
MIN_SENDS = 30  # per step or per time of day, before a rate is worth a sentence
OPT_OUT_THRESHOLD = Decimal("0.05")
OPT_OUT_CRITICAL = Decimal("0.10")
MIN_MESSAGED = 50
FILTER_DAY = timedelta(days=1)
FILTER_MIN = 3  # texts filtered in a day before it can be a spike
FILTER_SPIKE = 2  # times the week before's rate
TIME_BUCKETS = (("morning", 8, 12), ("afternoon", 12, 17), ("evening", 17, 21))
TIME_EFFECT = Decimal("1.5")  # best bucket's rate over the worst's


@dataclass(frozen=True)
class Rate:
    label: str
    count: int
    of: int

    @property
    def value(self) -> Decimal:
        return Decimal(self.count) / Decimal(self.of) if self.of else Decimal(0)

    def __str__(self) -> str:
        return f"{self.label} {self.value * 100:.1f}% ({self.count} of {self.of})"


def dataset_patterns(*, dataset: Dataset, at: datetime) -> list[Insight]:
    """Every pattern's insight for one dataset (the ones found this time)."""
    found = [
        reply_rate_by_step(dataset=dataset, at=at),
        opt_out_rate(dataset=dataset, at=at),
        carrier_filtering(dataset=dataset, at=at),
        time_of_day(dataset=dataset, at=at),
        cadence_without_opt_out(dataset=dataset, at=at),
    ]
    return [insight for insight in found if insight is not None]


def patterns_all(*, at: datetime) -> int:
    """The nightly run over every dataset that sent something in the window."""
    active = Dataset.objects.filter(
        leads__messages__direction=Message.Direction.OUTBOUND, leads__messages__sent_at__gte=at - WINDOW
    ).distinct()
    return sum(len(dataset_patterns(dataset=dataset, at=at)) for dataset in active)


def _sent(dataset: Dataset, at: datetime, since: timedelta = WINDOW):
    return Message.objects.filter(
        lead__dataset=dataset,
        direction=Message.Direction.OUTBOUND,
        sent_at__gte=at - since,
        sent_at__lt=at,
    )


def _first_reply():
    return Subquery(
        Message.objects.filter(lead_id=OuterRef("lead_id"), direction=Message.Direction.INBOUND)
        .values("lead_id")
        .annotate(first=Min("created_at"))
        .values("first")[:1]
    )


def step_rates(*, dataset: Dataset, at: datetime) -> list[Rate]:
    """Per step: of the leads sent that step, how many first replied after it (and before the next step)."""
    rates = []
    for index, step in enumerate(CADENCE_STEPS):
        later = CADENCE_STEPS[index + 1] if index + 1 < len(CADENCE_STEPS) else None
        sends = _sent(dataset, at).filter(message_type=step).annotate(first_reply=_first_reply())
        replied = Q(first_reply__gte=F("sent_at"))
        if later:
            next_sent = Subquery(
                Message.objects.filter(lead_id=OuterRef("lead_id"), message_type=later, sent_at__isnull=False).values(
                    "sent_at"
                )[:1]
            )
            sends = sends.annotate(next_sent=next_sent)
            replied &= Q(next_sent__isnull=True) | Q(first_reply__lt=F("next_sent"))
        row = sends.aggregate(of=Count("pk"), count=Count("pk", filter=replied))
        rates.append(Rate(step, row["count"], row["of"]))
    return rates


def reply_rate_by_step(*, dataset: Dataset, at: datetime) -> Insight | None:
    rates = [rate for rate in step_rates(dataset=dataset, at=at) if rate.of]
    if not rates or sum(rate.of for rate in rates) < MIN_SENDS:
        return None
    best = max(rates, key=lambda rate: rate.value)
    return _pattern(
        dataset,
        "reply_rate_by_step",
        at,
        severity=Insight.Severity.INFO,
        category=Insight.Category.SUCCESS_PATTERN,
        title=f"{dataset.name}: replies by cadence step",
        description="Reply rate by step over the last 30 days: " + "; ".join(map(str, rates)) + ".",
        suggestion=f"{best.label} brings the most replies per text; compare its wording with the other steps.",
        affected_leads_count=sum(rate.of for rate in rates),
    )


def opt_out_rate(*, dataset: Dataset, at: datetime) -> Insight | None:
    messaged = _sent(dataset, at).values("lead_id").distinct().count()
    if messaged < MIN_MESSAGED:
        return None
    opted = (
        Message.objects.filter(lead__dataset=dataset, direction=Message.Direction.INBOUND, created_at__gte=at - WINDOW)
        .filter(classification__opt_out=True)
        .values("lead_id")
        .distinct()
        .count()
    )
    rate = Rate("opt-outs", opted, messaged)
    if rate.value <= OPT_OUT_THRESHOLD:
        return None
    severe = rate.value > OPT_OUT_CRITICAL
    return _pattern(
        dataset,
        "opt_out_rate",
        at,
        severity=Insight.Severity.CRITICAL if severe else Insight.Severity.WARNING,
        category=Insight.Category.OPT_OUT,
        title=f"{dataset.name}: opt-out rate is high",
        description=f"{rate} of the leads texted in the last 30 days opted out (threshold "
        f"{OPT_OUT_THRESHOLD * 100:.0f}%).",
        suggestion="Check the first step's wording and the list's age; softer, shorter texts lose fewer leads.",
        affected_leads_count=opted,
    )


def carrier_filtering(*, dataset: Dataset, at: datetime) -> Insight | None:
    filtered = codes_of(Kind.FILTERED)
    day = _sent(dataset, at, FILTER_DAY).aggregate(of=Count("pk"), count=Count("pk", filter=Q(error_code__in=filtered)))
    week = _sent(dataset, at - FILTER_DAY, timedelta(days=7)).aggregate(
        of=Count("pk"), count=Count("pk", filter=Q(error_code__in=filtered))
    )
    today, before = Rate("today", day["count"], day["of"]), Rate("the week before", week["count"], week["of"])
    if today.count < FILTER_MIN or today.value <= before.value * FILTER_SPIKE:
        return None
    return _pattern(
        dataset,
        "carrier_filtering",
        at,
        severity=Insight.Severity.CRITICAL,
        category=Insight.Category.DELIVERY,
        title=f"{dataset.name}: carriers are filtering texts as spam",
        description=f"Filtered as spam in the last day: {today}; {before}.",
        suggestion="Carriers read links, capitals and sales words as spam: vary the wording, slow the sending.",
        affected_leads_count=today.count,
    )


def time_rates(*, dataset: Dataset, at: datetime) -> list[Rate]:
    """Cadence texts by local time of day, and how many of their leads first replied within a day."""
    zone = ZoneInfo(getattr(dataset.campaign_settings, "sending_timezone", "") or "Europe/London")
    rows = (
        _sent(dataset, at)
        .filter(message_type__in=CADENCE_STEPS)
        .annotate(first_reply=_first_reply())
        .values_list("sent_at", "first_reply")
    )
    counts = {name: [0, 0] for name, _, _ in TIME_BUCKETS}
    for sent_at, first_reply in rows.iterator():
        hour = sent_at.astimezone(zone).hour
        bucket = next((name for name, start, end in TIME_BUCKETS if start <= hour < end), None)
        if bucket is None:
            continue
        counts[bucket][1] += 1
        if first_reply is not None and sent_at <= first_reply < sent_at + timedelta(days=1):
            counts[bucket][0] += 1
    return [Rate(name, *counts[name]) for name, _, _ in TIME_BUCKETS]


def time_of_day(*, dataset: Dataset, at: datetime) -> Insight | None:
    rates = [rate for rate in time_rates(dataset=dataset, at=at) if rate.of >= MIN_SENDS]
    if len(rates) < 2:
        return None
    best, worst = max(rates, key=lambda r: r.value), min(rates, key=lambda r: r.value)
    if not best.count or best.value < worst.value * TIME_EFFECT:
        return None
    return _pattern(
        dataset,
        "time_of_day",
        at,
        severity=Insight.Severity.SUGGESTION,
        category=Insight.Category.TIMING,
        title=f"{dataset.name}: texts sent in the {best.label} get more replies",
        description="Replies within a day by time sent (last 30 days): " + "; ".join(map(str, rates)) + ".",
        suggestion=f"Consider sending hours that favour the {best.label}.",
        affected_leads_count=sum(rate.of for rate in rates),
    )


def cadence_without_opt_out(*, dataset: Dataset, at: datetime) -> Insight | None:
    texts = _sent(dataset, at, FILTER_DAY).filter(message_type__in=CADENCE_STEPS).values_list("message_type", "content")
    missing = [
        kind for kind, text in texts.iterator() if check_opt_out_line(MessageFacts(text, kind, "", (), (), None))
    ]
    if not missing:
        return None
    steps = ", ".join(sorted(set(missing)))
    return _pattern(
        dataset,
        "opt_out_line",
        at,
        severity=Insight.Severity.CRITICAL,
        category=Insight.Category.COMPLIANCE,
        title=f"{dataset.name}: cadence texts went without an opt-out line",
        description=f"{len(missing)} cadence texts ({steps}) sent in the last day had no opt-out instruction.",
        suggestion="Add “Reply STOP to opt out.” to the steps or turn the automatic opt-out line back on (PECR).",
        affected_leads_count=len(missing),
    )


def _pattern(dataset: Dataset, rule: str, at: datetime, **fields) -> Insight | None:
    return insight_record(
        finding_key=f"{rule}:{dataset.pk}",
        at=at,
        insight_type=Insight.Type.CAMPAIGN,
        dataset=dataset,
        **fields,
    )
