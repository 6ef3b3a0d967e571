"""The overview's figures, read from the counters and rollups only (docs/dashboard.md).

The page reads the `datasets` rows (their counters), `lead_stats_hourly` and `message_stats_hourly`:
a few hundred rows whether the client has a thousand leads or a million, and never a COUNT over
leads or messages. Periods are whole local days in the client's time zone; the hourly rollups are
summed into them.

- "All time" shows the datasets as they are now (their counters).
- A period shows what happened in it: leads added, and the leads first texted in it (the cohort) with
  what has become of them since: replied, hot, booked, converted, opted out. Rates are over the
  leads texted, so a period's funnel never has a stage larger than the one before it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from django.core.exceptions import BadRequest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from campaigns.message_stats import NAMES as MESSAGE_SERIES
from campaigns.models import MessageStatsHour
from clients.models import User
from leads.counters import PARTS
from leads.models import LeadStatsHour
from leads.selectors import datasets_visible_to

PERIODS = {
    "7d": ("Last 7 days", 7),
    "30d": ("Last 30 days", 30),
    "90d": ("Last 90 days", 90),
    "all": ("All time", None),
}
DEFAULT_PERIOD = "30d"
ALL_TIME_CHART_DAYS = 90  # "all time" charts the last 90 days

FUNNEL = (
    ("contacted", "Texted (M1 sent)"),
    ("replied", "Replied"),
    ("hot", "Hot now"),
    ("booked", "Call booked"),
    ("converted", "Converted"),
)
PART_LABELS = {
    "in_cadence_leads": "In the cadence (a text still to come)",
    "not_started_leads": "Not texted yet",
    "waiting_leads": "Texted, no reply, no step to come",
    "replied_open_leads": "Replied",
    "removed_leads": "Removed (opted out or by staff)",
    "send_failed_leads": "Sending failed (the provider refused the number)",
    "no_sms_leads": "Cannot receive SMS",
    "duplicate_leads": "Flagged duplicates (never texted)",
}
SERIES_LABELS = {"sent": "Sent", "delivered": "Delivered", "failed": "Failed or undelivered", "replies": "Replies"}


@dataclass(frozen=True)
class OverviewQuery:
    period: str = DEFAULT_PERIOD
    dataset: UUID | None = None


def overview_query_parse(params) -> OverviewQuery:
    period = params.get("period") or DEFAULT_PERIOD
    if period not in PERIODS:
        raise BadRequest(f"period must be one of {', '.join(PERIODS)}.")
    dataset = params.get("dataset") or None
    if dataset:
        try:
            dataset = UUID(dataset)
        except ValueError:
            raise BadRequest(f"dataset must be an id like 3f2b…-…; {dataset[:40]!r} is not one.") from None
    return OverviewQuery(period=period, dataset=dataset)


@dataclass
class Figure:
    key: str
    label: str
    value: int
    rate: float | None = None  # of the leads texted, 0–1

    @property
    def percent(self) -> str:
        return "" if self.rate is None else f"{100 * self.rate:.1f}%"


@dataclass
class Overview:
    period_label: str
    start: date | None
    end: date
    figures: list[Figure]
    funnel: list[Figure]
    parts: list[Figure]
    active: int
    archived: int
    days: list[dict] = field(default_factory=list)  # {"day": date, "sent": n, ...}

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def overview_figures(user: User, query: OverviewQuery, *, tz: str, now: datetime | None = None) -> Overview:
    """The overview for the datasets `user` may see (or the one chosen) over the chosen period."""
    zone = ZoneInfo(tz)
    today = timezone.localtime(now or timezone.now(), zone).date()
    label, days = PERIODS[query.period]
    datasets = datasets_visible_to(user)
    if query.dataset:
        datasets = datasets.filter(pk=query.dataset)
    dataset_ids = list(datasets.values_list("pk", flat=True))
    columns = ["total_leads", "active_leads", "hot_leads", "converted_leads", "contacted_leads", "replied_leads"]
    columns += ["booked_leads", "opted_out_leads", *(name for name, _ in PARTS)]
    now_counts = {k: v or 0 for k, v in datasets.aggregate(**{c: Sum(c) for c in columns}).items()}

    if days is None:
        start = None
        counts = {
            "added": now_counts["total_leads"],
            "contacted": now_counts["contacted_leads"],
            "replied": now_counts["replied_leads"],
            "hot": now_counts["hot_leads"],
            "booked": now_counts["booked_leads"],
            "converted": now_counts["converted_leads"],
            "opted_out": now_counts["opted_out_leads"],
        }
        chart_start = today - timedelta(days=ALL_TIME_CHART_DAYS - 1)
    else:
        start = chart_start = today - timedelta(days=days - 1)
        rows = LeadStatsHour.objects.filter(
            dataset_id__in=dataset_ids,
            hour__gte=_local_midnight(start, zone),
            hour__lt=_local_midnight(today + timedelta(days=1), zone),
        ).aggregate(**{name: Sum(name) for name in ("added", "contacted", "replied", "hot", "booked", "converted")},
                    opted_out=Sum("opted_out"))  # fmt: skip
        counts = {k: v or 0 for k, v in rows.items()}

    contacted = counts["contacted"]
    figures = [
        Figure("added", "Leads" if days is None else "Leads added", counts["added"]),
        Figure("contacted", "Texted (M1 sent)", contacted),
        Figure("replied", "Replied", counts["replied"], _rate(counts["replied"], contacted)),
        Figure("hot", "Hot now", counts["hot"], _rate(counts["hot"], contacted)),
        Figure("booked", "Call booked", counts["booked"], _rate(counts["booked"], contacted)),
        Figure("converted", "Converted", counts["converted"], _rate(counts["converted"], contacted)),
        Figure("opted_out", "Opted out", counts["opted_out"], _rate(counts["opted_out"], contacted)),
    ]
    funnel = [Figure(key, text, counts[key], _rate(counts[key], contacted)) for key, text in FUNNEL]
    parts = [Figure(name, PART_LABELS[name], now_counts[name]) for name, _ in PARTS]
    parts.sort(key=lambda f: list(PART_LABELS).index(f.key))
    return Overview(
        period_label=label,
        start=start,
        end=today,
        figures=figures,
        funnel=funnel,
        parts=parts,
        active=now_counts["active_leads"],
        archived=now_counts["total_leads"] - now_counts["active_leads"],
        days=_messages_per_day(dataset_ids, chart_start, today, tz),
    )


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def _messages_per_day(dataset_ids: list, start: date, end: date, tz: str) -> list[dict]:
    """Sent, delivered, failed and replies per local day from `start` to `end`, days without any included."""
    zone = ZoneInfo(tz)
    sums = ", ".join(f"sum({name})" for name in MESSAGE_SERIES)
    table = MessageStatsHour._meta.db_table
    by_day = {}
    if dataset_ids:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (hour AT TIME ZONE %s)::date AS day, {sums} FROM {table}"
                " WHERE dataset_id = ANY(%s) AND hour >= %s AND hour < %s GROUP BY day",
                [tz, dataset_ids, _local_midnight(start, zone), _local_midnight(end + timedelta(days=1), zone)],
            )
            by_day = {row[0]: row[1:] for row in cursor.fetchall()}
    days = []
    day = start
    while day <= end:
        values = by_day.get(day, (0,) * len(MESSAGE_SERIES))
        counts = {name: int(v or 0) for name, v in zip(MESSAGE_SERIES, values, strict=True)}
        days.append({"day": day, "label": f"{day:%a} {day.day} {day:%b}", **counts})  # "Mon 30 Nov"
        day += timedelta(days=1)
    return days


# --- Charts: geometry for server-rendered SVG ----------------------------------------


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


def column_chart(points: list[tuple[str, int]], *, series: str = "", width: int = 320, height: int = 90) -> dict:
    """Bars of one series across days (one small chart per series, so it reads without colour).

    The bars' SVG is written here, not in the template: a bar a day in four charts was most of the page's
    rendering time (eight template variables a bar)."""
    top = max((value for _, value in points), default=0) or 1
    step = width / max(len(points), 1)
    bars = [
        Bar(round(i * step + step * 0.1, 2), round(height - value * height / top, 2), round(step * 0.8, 2),
            round(value * height / top, 2), label, value)
        for i, (label, value) in enumerate(points)
    ]  # fmt: skip
    # Only the label and the series name are text; the rest are numbers we computed (escaping them all
    # through format_html cost more than the template did).
    css = escape(series)
    svg = mark_safe(  # noqa: S308 - every text part is escaped above or here
        "".join(
            f'<rect class="bar {css}" x="{bar.x}" y="{bar.y}" width="{bar.width}" height="{bar.height}">'
            f"<title>{escape(bar.label)}: {int(bar.value)}</title></rect>"
            for bar in bars
        )
    )
    top_value = max((value for _, value in points), default=0)
    return {"bars": bars, "svg": svg, "max": top_value, "width": width, "height": height}


def funnel_chart(stages: list[Figure], *, width: int = 320, row: int = 28) -> dict:
    """Horizontal bars, each stage's length against the first; the number is written on each bar."""
    top = max((stage.value for stage in stages), default=0) or 1
    bars = [
        Bar(0, i * row, max(round(stage.value * width / top, 2), 1), row - 6, stage.label, stage.value)
        for i, stage in enumerate(stages)
    ]
    return {"bars": bars, "width": width, "height": row * len(stages)}
