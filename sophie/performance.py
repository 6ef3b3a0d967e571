"""How a prompt version does with real leads (docs/prompts.md "Performance"): one selector, computed from
messages, lead events and AiReply rows. The seed's metric columns on `prompts` are only its cache.

Statistics are plain functions here (Wilson score interval, two-proportion z-test) so the trial comparison
and the version page use the same arithmetic.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from campaigns.models import Message
from leads.models import LeadEvent
from leads.suppressions import OPT_OUT_SOURCES
from sophie.models import Prompt

# Below this many trials (texts or conversations) a rate is shown as "not enough data yet": a Wilson
# interval on 5 texts spans most of 0-100% and invites reading noise as a result.
MIN_SAMPLE = 30
Z_95 = 1.959963984540054
# Messages that are part of the thread a lead saw (drafts, cancelled and planned texts never reached them).
IN_THREAD = (
    Message.Status.SENT,
    Message.Status.DELIVERED,
    Message.Status.UNDELIVERED,
    Message.Status.RECEIVED,
)
SENTIMENT_SCORE = {"positive": 1, "neutral": 0, "negative": -1}


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a proportion: unlike the normal approximation it stays inside [0, 1]
    and behaves for rates near 0 or 1 and small n (booking rates are both)."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_z(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float] | None:
    """The pooled two-proportion z-test: (z, two-sided p). None when it cannot be computed (an empty arm, or
    both arms all-success or all-failure)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (s1 + s2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return None
    z = (s1 / n1 - s2 / n2) / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2))


@dataclass(frozen=True)
class Rate:
    """successes out of n, with its 95% Wilson interval."""

    successes: int
    n: int

    @property
    def value(self) -> float | None:
        return self.successes / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.successes, self.n)

    @property
    def enough(self) -> bool:
        return self.n >= MIN_SAMPLE

    @property
    def shown(self) -> str:
        """ "45% (27/60), 95% interval 33–58%" for pages."""
        if not self.n:
            return "—"
        low, high = self.interval
        return f"{self.value:.0%} ({self.successes}/{self.n}), 95% interval {low * 100:.0f}–{high * 100:.0f}%"

    def as_dict(self) -> dict:
        low, high = self.interval
        return {"successes": self.successes, "n": self.n, "rate": self.value, "low": low, "high": high}


@dataclass(frozen=True)
class Performance:
    """One version's figures (optionally within one trial arm)."""

    prompt_id: object
    version: str
    conversations: int
    ai_texts: int
    reply_rate: Rate  # AI texts the lead answered before our next text
    booking_rate: Rate  # conversations with a booked call after this version's first text in them
    opt_out_rate: Rate  # conversations whose lead opted out after this version's first text
    handoff_rate: Rate  # conversations in which this version handed the lead to a person
    avg_sentiment: float | None  # -1 negative .. +1 positive, over the lead's answers to this version's texts
    sentiment_n: int
    vs_previous: float | None  # reply rate minus the previous version's, when both have enough texts

    @property
    def rates(self) -> list[tuple[str, Rate]]:
        return [
            ("Reply rate after an AI text", self.reply_rate),
            ("Booking rate", self.booking_rate),
            ("Opt-out rate", self.opt_out_rate),
            ("Hand-off rate", self.handoff_rate),
        ]

    def as_dict(self) -> dict:
        return {
            "prompt_id": str(self.prompt_id),
            "version": self.version,
            "conversations": self.conversations,
            "ai_texts": self.ai_texts,
            "reply_rate": self.reply_rate.as_dict(),
            "booking_rate": self.booking_rate.as_dict(),
            "opt_out_rate": self.opt_out_rate.as_dict(),
            "handoff_rate": self.handoff_rate.as_dict(),
            "avg_sentiment": self.avg_sentiment,
            "sentiment_n": self.sentiment_n,
            "performance_vs_previous": self.vs_previous,
            "minimum_sample": MIN_SAMPLE,
        }


# One statement: the version's replies in scope, per conversation the first text's time and whether it handed
# off; the thread of those conversations with, for each message, the one that followed it (a window); the
# lead events after the first text found through the (lead_id, created_at) index.
_FIGURES_SQL = """
WITH replies AS (
    SELECT m.conversation_id, m.lead_id, r.message_id, r.written_at, r.action
    FROM ai_replies r
    JOIN messages m ON m.id = r.message_id
    JOIN conversations c ON c.id = m.conversation_id
    WHERE r.prompt_id = %(prompt)s
      AND (%(trial)s::uuid IS NULL OR (c.trial_id = %(trial)s::uuid AND c.trial_arm = %(arm)s))
), handled AS (
    SELECT conversation_id, lead_id, min(written_at) AS first_at, bool_or(action = 'handoff') AS handed_off
    FROM replies GROUP BY conversation_id, lead_id
), thread AS (
    SELECT m.id,
           LEAD(m.direction) OVER w AS next_direction,
           LEAD(m.classification ->> 'sentiment') OVER w AS next_sentiment
    FROM messages m
    WHERE m.conversation_id IN (SELECT conversation_id FROM handled) AND m.status = ANY(%(statuses)s)
    WINDOW w AS (PARTITION BY m.conversation_id ORDER BY COALESCE(m.sent_at, m.created_at), m.created_at, m.id)
), texts AS (
    SELECT count(*) AS texts,
           count(*) FILTER (WHERE t.next_direction = 'inbound') AS replied,
           sum(CASE t.next_sentiment WHEN 'positive' THEN 1 WHEN 'negative' THEN -1 ELSE 0 END)
               FILTER (WHERE t.next_direction = 'inbound' AND t.next_sentiment = ANY(%(sentiments)s)) AS sentiment_sum,
           count(*) FILTER (WHERE t.next_direction = 'inbound'
                            AND t.next_sentiment = ANY(%(sentiments)s)) AS sentiment_n
    FROM thread t JOIN replies r ON r.message_id = t.id
    WHERE r.action = 'send'
), outcomes AS (
    SELECT count(*) AS conversations,
           count(*) FILTER (WHERE h.handed_off) AS handed_off,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM lead_events e
               WHERE e.lead_id = h.lead_id AND e.created_at >= h.first_at AND e.event_type = %(booked)s
           )) AS booked,
           count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM lead_events e
               WHERE e.lead_id = h.lead_id AND e.created_at >= h.first_at AND e.event_type = %(suppressed)s
                 AND e.data ->> 'source' = ANY(%(opt_out_sources)s)
           )) AS opted_out
    FROM handled h
)
SELECT o.conversations, o.handed_off, o.booked, o.opted_out, t.texts, t.replied, t.sentiment_sum, t.sentiment_n
FROM outcomes o CROSS JOIN texts t
"""


def prompt_performance(
    *, prompt: Prompt, trial_id=None, arm: str | None = None, with_previous: bool = True
) -> Performance:
    """THE selector for a version's figures; with `trial_id` and `arm`, only conversations of that trial arm."""
    with connection.cursor() as cursor:
        cursor.execute(
            _FIGURES_SQL,
            {
                "prompt": prompt.pk,
                "trial": trial_id,
                "arm": arm or "",
                "statuses": list(IN_THREAD),
                "sentiments": list(SENTIMENT_SCORE),
                "booked": LeadEvent.Type.CALL_BOOKED,
                "suppressed": LeadEvent.Type.SUPPRESSED,
                "opt_out_sources": [str(source) for source in OPT_OUT_SOURCES],
            },
        )
        conversations, handed_off, booked, opted_out, texts, replied, sentiment_sum, sentiment_n = cursor.fetchone()
    reply_rate = Rate(replied or 0, texts or 0)
    return Performance(
        prompt_id=prompt.pk,
        version=prompt.version,
        conversations=conversations,
        ai_texts=texts or 0,
        reply_rate=reply_rate,
        booking_rate=Rate(booked, conversations),
        opt_out_rate=Rate(opted_out, conversations),
        handoff_rate=Rate(handed_off, conversations),
        avg_sentiment=sentiment_sum / sentiment_n if sentiment_n else None,
        sentiment_n=sentiment_n or 0,
        vs_previous=_vs_previous(prompt, reply_rate) if with_previous and trial_id is None else None,
    )


def _chain(prompt: Prompt):
    if prompt.dataset_id:
        return Prompt.objects.filter(dataset_id=prompt.dataset_id)
    return Prompt.objects.filter(dataset__isnull=True)


def previous_version(prompt: Prompt) -> Prompt | None:
    """The version this one replaced: the row it was made from, else the chain's row numbered just below."""
    if prompt.previous_version_id:
        return prompt.previous_version
    return _chain(prompt).filter(version_number__lt=prompt.version_number).order_by("-version_number").first()


def _vs_previous(prompt: Prompt, reply_rate: Rate) -> float | None:
    before = previous_version(prompt)
    if before is None or not reply_rate.enough:
        return None
    theirs = prompt_performance(prompt=before, with_previous=False).reply_rate
    return reply_rate.value - theirs.value if theirs.enough else None


# The version page's chart: at most this many versions, so it stays readable and cheap.
CHART_VERSIONS = 8


def versions_charted(*, prompt: Prompt, chain: Iterable[Prompt] | None = None) -> list[Prompt]:
    """The versions charted beside `prompt`: it and its chain's published (live or archived) ones, the newest
    CHART_VERSIONS. `chain` is the chain's rows newest first, when the caller has them already."""
    rows = _chain(prompt).order_by("-version_number") if chain is None else chain
    return [row for row in rows if row == prompt or row.status != Prompt.Status.DRAFT][:CHART_VERSIONS]


def versions_performance(prompts: Iterable[Prompt]) -> list[Performance]:
    """Figures for several versions (the chart on the prompt page), oldest first."""
    return [prompt_performance(prompt=p) for p in sorted(prompts, key=lambda p: p.version_number)]


def prompt_metrics_cache(*, prompt: Prompt, performance: Performance) -> None:
    """Writes the figures into the seed's metric columns (a cache for lists and exports; never read back
    as truth)."""

    def dec(value: float | None, places: str) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(Decimal(places))

    Prompt.objects.filter(pk=prompt.pk).update(
        conversations_count=performance.conversations,
        booking_rate=dec(performance.booking_rate.value, "0.0001"),
        avg_sentiment_score=dec(performance.avg_sentiment, "0.01"),
        performance_vs_previous=dec(performance.vs_previous, "0.0001"),
    )
