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
from sophie.models import AiReply, Prompt

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


# One pass over the threads in scope: for each AI text of the version, the message that followed it.
_TEXTS_SQL = """
WITH thread AS (
    SELECT m.id,
           LEAD(m.direction) OVER w AS next_direction,
           LEAD(m.classification ->> 'sentiment') OVER w AS next_sentiment
    FROM messages m
    WHERE m.conversation_id = ANY(%(conversations)s) AND m.status = ANY(%(statuses)s)
    WINDOW w AS (PARTITION BY m.conversation_id ORDER BY COALESCE(m.sent_at, m.created_at), m.created_at, m.id)
)
SELECT count(*),
       count(*) FILTER (WHERE t.next_direction = 'inbound'),
       sum(CASE t.next_sentiment WHEN 'positive' THEN 1 WHEN 'negative' THEN -1 ELSE 0 END)
           FILTER (WHERE t.next_direction = 'inbound' AND t.next_sentiment IN ('positive', 'neutral', 'negative')),
       count(*) FILTER (WHERE t.next_direction = 'inbound' AND t.next_sentiment IN ('positive', 'neutral', 'negative'))
FROM thread t JOIN ai_replies r ON r.message_id = t.id
WHERE r.prompt_id = %(prompt)s AND r.action = 'send'
"""


def prompt_performance(
    *, prompt: Prompt, trial_id=None, arm: str | None = None, with_previous: bool = True
) -> Performance:
    """THE selector for a version's figures; with `trial_id` and `arm`, only conversations of that trial arm."""
    replies = AiReply.objects.filter(prompt=prompt)
    if trial_id is not None:
        replies = replies.filter(message__conversation__trial_id=trial_id, message__conversation__trial_arm=arm)
    first_text: dict = {}
    handed_off: set = set()
    for conversation_id, lead_id, written_at, action in replies.values_list(
        "message__conversation_id", "message__lead_id", "written_at", "action"
    ):
        known = first_text.get(conversation_id)
        if known is None or written_at < known[1]:
            first_text[conversation_id] = (lead_id, written_at)
        if action == AiReply.Action.HANDOFF:
            handed_off.add(conversation_id)
    conversations = len(first_text)
    texts, replied, sentiment_sum, sentiment_n = _texts(prompt, list(first_text))
    booked = _after_first_text(first_text, LeadEvent.objects.filter(event_type=LeadEvent.Type.CALL_BOOKED))
    opted_out = _after_first_text(
        first_text,
        LeadEvent.objects.filter(event_type=LeadEvent.Type.SUPPRESSED, data__source__in=list(OPT_OUT_SOURCES)),
    )
    reply_rate = Rate(replied, texts)
    return Performance(
        prompt_id=prompt.pk,
        version=prompt.version,
        conversations=conversations,
        ai_texts=texts,
        reply_rate=reply_rate,
        booking_rate=Rate(booked, conversations),
        opt_out_rate=Rate(opted_out, conversations),
        handoff_rate=Rate(len(handed_off), conversations),
        avg_sentiment=sentiment_sum / sentiment_n if sentiment_n else None,
        sentiment_n=sentiment_n,
        vs_previous=_vs_previous(prompt, reply_rate) if with_previous and trial_id is None else None,
    )


def _texts(prompt: Prompt, conversation_ids: list) -> tuple[int, int, int, int]:
    if not conversation_ids:
        return 0, 0, 0, 0
    with connection.cursor() as cursor:
        cursor.execute(
            _TEXTS_SQL,
            {"conversations": conversation_ids, "statuses": list(IN_THREAD), "prompt": prompt.pk},
        )
        texts, replied, sentiment_sum, sentiment_n = cursor.fetchone()
    return texts or 0, replied or 0, sentiment_sum or 0, sentiment_n or 0


def _after_first_text(first_text: dict, events) -> int:
    """Conversations with one of `events` for their lead at or after the version's first text in them."""
    if not first_text:
        return 0
    by_lead = {lead_id: at for lead_id, at in first_text.values()}
    leads = {
        lead_id
        for lead_id, created_at in events.filter(lead_id__in=list(by_lead)).values_list("lead_id", "created_at")
        if created_at >= by_lead[lead_id]
    }
    return len(leads)


def previous_version(prompt: Prompt) -> Prompt | None:
    """The version this one replaced: the row it was made from, else the chain's row numbered just below."""
    if prompt.previous_version_id:
        return prompt.previous_version
    chain = (
        Prompt.objects.filter(dataset_id=prompt.dataset_id)
        if prompt.dataset_id
        else Prompt.objects.filter(dataset__isnull=True)
    )
    return chain.filter(version_number__lt=prompt.version_number).order_by("-version_number").first()


def _vs_previous(prompt: Prompt, reply_rate: Rate) -> float | None:
    before = previous_version(prompt)
    if before is None or not reply_rate.enough:
        return None
    theirs = prompt_performance(prompt=before, with_previous=False).reply_rate
    return reply_rate.value - theirs.value if theirs.enough else None


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
