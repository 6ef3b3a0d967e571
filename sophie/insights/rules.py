"""The checks of one message Sophie sent: each rule its own small pure function `(facts) -> Finding | None`.

No database, no clock, no model. Where a guardrail already decides the same thing (emoji, blacklist,
never-rules, segments, repetition) the rule asks the guardrail, so a word is never judged two ways; the
guardrails stop a text before it goes, these rules look at what went and say what to teach.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from campaigns import content, optout
from sophie import guardrails
from sophie.guardrails import links_in, money_amounts
from sophie.llm.base import AgentContext
from sophie.models import Insight

CADENCE_STEPS = ("M1", "M2", "M3")
# What a failed rule takes off the score, by severity (docs/learning.md).
PENALTY = {
    Insight.Severity.CRITICAL: Decimal("0.5"),
    Insight.Severity.WARNING: Decimal("0.3"),
    Insight.Severity.SUGGESTION: Decimal("0.15"),
    Insight.Severity.INFO: Decimal("0"),
}


@dataclass(frozen=True)
class MessageFacts:
    """One sent text and what surrounded it."""

    text: str
    message_type: str  # M1/M2/M3 for the cadence, "reply" for Sophie's answers
    lead_status: str  # the lead's status after the answered text was read
    lead_texts: tuple[str, ...]  # what the lead said since our previous text (the burst answered)
    earlier_texts: tuple[str, ...]  # our earlier texts to this lead, oldest first
    context: AgentContext  # the lessons and booking link, as the agent had them


@dataclass(frozen=True)
class Finding:
    rule: str
    category: str
    severity: str
    title: str
    description: str
    suggestion: str

    def to_dict(self) -> dict:
        return {
            "rule": self.rule,
            "passed": False,
            "severity": self.severity,
            "category": self.category,
            "detail": self.description,
        }


def _from_guardrail(verdict, *, rule: str, category: str, severity: str, title: str, suggestion: str):
    if verdict.passed:
        return None
    return Finding(rule, category, severity, title, verdict.detail, suggestion)


def check_emoji(facts: MessageFacts) -> Finding | None:
    return _from_guardrail(
        guardrails.check_emoji(facts.text, facts.context),
        rule="emoji",
        category=Insight.Category.GUARDRAIL,
        severity=Insight.Severity.WARNING,
        title="Sophie used an emoji or symbol",
        suggestion="Plain text only: an emoji turns the whole text into UCS-2 and halves what fits in a segment.",
    )


def check_blacklist(facts: MessageFacts) -> Finding | None:
    return _from_guardrail(
        guardrails.check_blacklist(facts.text, facts.context),
        rule="blacklist",
        category=Insight.Category.GUARDRAIL,
        severity=Insight.Severity.CRITICAL,
        title="Sophie used a blacklisted word",
        suggestion="Teach the wording to use instead, or make the blacklist lesson clearer.",
    )


def check_never_rules(facts: MessageFacts) -> Finding | None:
    return _from_guardrail(
        guardrails.check_never_rules(facts.text, facts.context),
        rule="never_rules",
        category=Insight.Category.COMPLIANCE,
        severity=Insight.Severity.CRITICAL,
        title="Sophie broke a never-rule",
        suggestion="Add a good example of the answer she should give in this situation.",
    )


def check_segments(facts: MessageFacts) -> Finding | None:
    return _from_guardrail(
        guardrails.check_segments(facts.text, facts.context),
        rule="segments",
        category=Insight.Category.GUARDRAIL,
        severity=Insight.Severity.SUGGESTION,
        title="Sophie's text was too long",
        suggestion="Teach a shorter answer: two SMS segments at most.",
    )


def check_repetition(facts: MessageFacts) -> Finding | None:
    """Any earlier text of ours, not only the last one: a lead who gets the same line twice stops reading."""
    for earlier in reversed(facts.earlier_texts):
        verdict = guardrails.check_repeat(facts.text, facts.context, earlier)
        if not verdict.passed:
            return Finding(
                "repetition",
                Insight.Category.TONE,
                Insight.Severity.WARNING,
                "Sophie repeated an earlier text",
                f"The text is nearly the same as one we sent before: “{_clip(earlier)}”.",
                "Teach a different next step for this point in the conversation.",
            )
    return None


def check_hot_without_link(facts: MessageFacts) -> Finding | None:
    """A HOT lead is ready to talk: the reply should carry the booking link when the dataset has one."""
    link = (facts.context.booking_link or "").strip()
    if facts.lead_status != "HOT" or not link or facts.message_type in CADENCE_STEPS:
        return None
    if link in facts.text or links_in(facts.text):
        return None
    return Finding(
        "hot_without_link",
        Insight.Category.SUCCESS_PATTERN,
        Insight.Severity.WARNING,
        "A HOT lead got no booking link",
        "The lead is HOT but Sophie's answer did not include the booking link.",
        f"When a lead is ready, offer the call with the booking link ({link}).",
    )


def check_opt_out_line(facts: MessageFacts) -> Finding | None:
    """PECR: every cadence text says how to opt out (Sophie's answers to a lead who wrote are replies)."""
    if facts.message_type not in CADENCE_STEPS or content.has_opt_out(facts.text):
        return None
    return Finding(
        "opt_out_line",
        Insight.Category.COMPLIANCE,
        Insight.Severity.CRITICAL,
        "A cadence text went without an opt-out line",
        f"The {facts.message_type} text has no opt-out instruction (the word STOP).",
        "Add “Reply STOP to opt out.” to the step or turn on the automatic opt-out line.",
    )


_PUSHY = optout.any_of(
    r"\bact (?:now|fast|today)\b",
    r"\blast chance\b",
    r"\blimited (?:time|offer|spaces?|places?)\b",
    r"\b(?:don'?t|do not) miss (?:out|this)\b",
    r"\bhurry\b",
    r"\b(?:today|tonight) only\b",
    r"\bfinal (?:offer|reminder|chance)\b",
    r"\bbefore it'?s too late\b",
    r"\bonly \w+ (?:left|remaining)\b",
    r"\byou (?:must|need to|have to) (?:book|decide|act|sign|reply)\b",
    r"\bwhy (?:haven'?t|have you not) you\b",
    r"\b(?:ends|expires) (?:today|tomorrow|soon|tonight)\b",
    r"\bnow or never\b",
)


def check_pushy(facts: MessageFacts) -> Finding | None:
    found = _PUSHY.search(optout.normalise(content.to_gsm7(facts.text)))
    if found is None:
        return None
    return Finding(
        "pushy",
        Insight.Category.TONE,
        Insight.Severity.WARNING,
        "Sophie sounded pushy",
        f"The text says “{found.group(0)}”: pressure makes old leads opt out.",
        "Offer, don't press: one clear, friendly next step the lead can ignore.",
    )


# Topics a reply can volunteer: (name, what in our text talks about it, what in the lead's text asks for it).
_TOPICS = (
    ("price", r"\b(?:cost|costs|price|priced|prices)\b|£\s?\d", r"\b(?:cost|price|how much|expensive|cheap|quote)|£"),
    ("finance", r"\b(?:financ\w*|monthly payments?|loan|credit)\b", r"\b(?:financ\w*|monthly|pay|loan|credit|afford)"),
    ("grants", r"\b(?:grants?|eco ?4|funding|scheme)\b", r"\b(?:grants?|eco ?4|funding|scheme|free)"),
    ("batteries", r"\bbatter(?:y|ies)\b", r"\bbatter(?:y|ies)\b"),
    ("planning permission", r"\bplanning\b", r"\b(?:planning|permission|listed|conservation)\b"),
)


def check_unasked_answer(facts: MessageFacts) -> Finding | None:
    """Sophie answered a question the lead did not ask (a price nobody asked for, finance out of nowhere)."""
    asked = optout.normalise(" ".join(facts.lead_texts))
    if not asked or facts.message_type in CADENCE_STEPS:
        return None
    said = optout.normalise(content.to_gsm7(facts.text))
    for topic, ours, theirs in _TOPICS:
        if re.search(ours, said) and not re.search(theirs, asked):
            if topic == "price" and not money_amounts(facts.text) and "?" in facts.text:
                continue  # "would you like a price?" offers, it does not answer
            return Finding(
                "unasked_answer",
                Insight.Category.OBJECTION,
                Insight.Severity.SUGGESTION,
                "Sophie answered a question the lead did not ask",
                f"Sophie talked about {topic}; the lead did not ask about it: “{_clip(' '.join(facts.lead_texts))}”.",
                "Answer what the lead said; keep other topics for when they ask.",
            )
    return None


RULES = (
    check_emoji,
    check_blacklist,
    check_never_rules,
    check_segments,
    check_repetition,
    check_hot_without_link,
    check_opt_out_line,
    check_pushy,
    check_unasked_answer,
)
RULE_NAMES = (
    "emoji",
    "blacklist",
    "never_rules",
    "segments",
    "repetition",
    "hot_without_link",
    "opt_out_line",
    "pushy",
    "unasked_answer",
)


def rules_check(facts: MessageFacts) -> list[Finding]:
    """Every rule's finding on the message, in a fixed order (an empty list: nothing to say)."""
    return [finding for rule in RULES if (finding := rule(facts)) is not None]


def rules_score(findings: list[Finding]) -> Decimal:
    """1 minus each finding's penalty, never below 0."""
    return max(Decimal("0"), Decimal("1") - sum((PENALTY[f.severity] for f in findings), Decimal("0")))


def _clip(text: str, length: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"
