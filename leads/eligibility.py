"""Who may be messaged, and for what: one table of rules, read both as a filter and per lead.

Each rule names the purposes it stops and one lookup a lead must match to pass it. The
queryset form (`LeadQuerySet.messageable`) filters by those lookups; the per-lead form
(`Lead.not_messageable_reason`) evaluates the same lookups on the lead's values, so the two
cannot disagree. See docs/eligibility.md for why each rule stops what it stops.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Purpose(StrEnum):
    CADENCE = "cadence"  # M1–M3
    NUDGE = "nudge"  # the one silence nudge after the cadence
    AI_REPLY = "ai_reply"
    STAFF = "staff"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"  # the single text confirming a STOP
    TEST = "test"


ALL = frozenset(Purpose)
CADENCE_ONLY = frozenset({Purpose.CADENCE, Purpose.NUDGE})  # the texts the campaign sends on its own
IN_CADENCE = ("READY", "CONTACTED_1", "CONTACTED_2")  # a step is still to come
NOT_CLOSED = (*IN_CADENCE, "CONTACTED_3")  # contacted, not answered, not closed
SUPPRESSED = "suppressed"  # not a lead field: whether the lead's number is on the suppression list


@dataclass(frozen=True)
class Rule:
    reason: str  # for staff, after "Not sent: "; {status} is the lead's status
    stops: frozenset[Purpose]
    lookup: str  # what a lead must match to pass: `field`, `field__isnull` or `field__in`
    value: object

    @property
    def field(self) -> str:
        return self.lookup.partition("__")[0]

    def passes(self, values: Mapping) -> bool:
        value, operator = values[self.field], self.lookup.partition("__")[2]
        if operator == "isnull":
            return (value is None) == self.value
        if operator == "in":
            return value in self.value
        return value == self.value


# In the order a reason is given when several apply.
RULES = (
    Rule("the number is suppressed", ALL - {Purpose.OPT_OUT_CONFIRMATION}, SUPPRESSED, False),
    Rule("the lead is archived", ALL - {Purpose.TEST}, "archived", False),
    Rule("the number cannot receive SMS", ALL - {Purpose.TEST}, "sms_capable", True),
    Rule("the lead is in manual mode", CADENCE_ONLY | {Purpose.AI_REPLY}, "manual_mode", False),
    Rule("the lead is a flagged duplicate", CADENCE_ONLY, "is_duplicate", False),
    Rule("the lead replied", CADENCE_ONLY, "reply_received_at__isnull", True),
    Rule("the lead is {status}", frozenset({Purpose.CADENCE}), "contact_status__in", IN_CADENCE),
    Rule("the lead is {status}", frozenset({Purpose.NUDGE}), "contact_status__in", NOT_CLOSED),
)
LEAD_FIELDS = tuple(dict.fromkeys(rule.field for rule in RULES if rule.field != SUPPRESSED))


def rules_for(purpose: Purpose | str) -> list[Rule]:
    return [rule for rule in RULES if purpose in rule.stops]


def first_failed(purpose: Purpose | str, values: Mapping) -> Rule | None:
    """The first rule for `purpose` that these values (the lead's fields and `suppressed`) do not pass."""
    return next((rule for rule in rules_for(purpose) if not rule.passes(values)), None)
