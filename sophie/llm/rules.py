"""The offline backend (the default): one reply per intent, composed from the context; no network, no clock.

It makes the next move of the reply-intent table (docs/domain.md; docs/llm.md lists what it says) with
the lead's first name, the agent, the company, the booking link and facts found in the prompt's
knowledge section, never a fact that is not there. An active objection_handling or example_good lesson
tagged with the intent replaces the built-in line (staff teach it; the highest priority wins). Two cues
the classifier has no intent for are read here from the burst: "is this a bot?" gets an honest answer,
"can I speak to a person?" a hand-off. Texts are plain GSM-7, one segment where the link allows, and
avoid every default blacklisted word ("free", "up to", "guarantee", "hurry"...).
"""

import re
from dataclasses import replace
from datetime import date, timedelta

from campaigns import optout
from campaigns.content import segments, to_gsm7
from sophie.classify import MIN_CONFIDENCE, NO_RULE_MATCHED, says_no, says_yes
from sophie.llm.base import HANDOFF, SEND, AgentContext, Draft, LessonView

LESSON_TYPES = ("objection_handling", "example_good")
REMOVED_INTENTS = ("opt_out", "hostile", "wrong_number")
BOT, PERSON = "bot", "person"  # cue names, also the lesson tags that replace their lines

_BOT = optout.any_of(
    r"\b(?:are|r) (?:you|u) (?:a |an )?(?:bot|robot|chat ?bot|ai|machine|computer|automated|real|human"
    r"|a real person)\b",
    r"\bis (?:this|it|that) (?:a |an )?(?:bot|robot|chat ?bot|ai|automated|computer|machine|human|person"
    r"|(?:a )?real (?:person|human))\b",
    r"\b(?:talking|speaking|texting|chatting) (?:to|with) (?:a |an )?(?:bot|robot|chat ?bot|ai|machine|computer)\b",
    r"\b(?:chat ?bot|robot)\b",
    r"\bbot\b",
)
_PERSON = optout.any_of(
    r"\b(?:speak|talk|chat) (?:to|with) (?:a |an |an actual |a real |someone |somebody )?"
    r"(?:person|human|real person|real human|someone real|somebody real|actual person|human being)\b",
    r"\b(?:someone|somebody) real\b",
    r"\b(?:a|an actual|a real) (?:person|human),? (?:please|pls)\b",
    r"\bput me through\b",
)
# A time to ring, in the lead's words: "tomorrow after 5", "Monday morning", "around 3pm".
_WHEN = re.compile(
    r"(?:after|before|around|about|at|from|by|between) \d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|ish|o'?clock)?"
    r"(?: ?(?:-|and|or|to) ?\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm)?)?"
    r"|(?:tomorrow|tmrw|tmr|today|tonight|this (?:morning|afternoon|evening|week)|next week"
    r"|(?:on )?(?:mon|tues|wednes|thurs|fri|satur|sun)day)(?: (?:morning|afternoon|evening|night|lunchtime))?"
    r"|any ?time|asap|after work|in the (?:morning|afternoon|evening)|(?:at )?lunch ?time",
    re.IGNORECASE,
)
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTH_WORDS = re.compile(
    r"\b(?P<after>after |until |till |end of )?(?P<month>january|jan|february|feb|march|april|apr|june|july|august|aug"
    r"|september|sept|sep|october|oct|november|nov|december|dec|(?<=in )may|(?<=after )may|(?<=until )may)\b"
)
# Seasons and holidays -> (month for "in"/"by", month for "after").
_SEASONS = {
    "spring": (3, 6), "summer": (6, 9), "autumn": (9, 12), "fall": (9, 12), "winter": (12, 3),
    "christmas": (1, 1), "xmas": (1, 1), "new year": (1, 1), "easter": (4, 5), "holidays": (1, 1),
}  # fmt: skip
_SEASON_WORDS = re.compile(r"\b(?P<after>after |over |past )?(?:the )?(?P<season>" + "|".join(_SEASONS) + r")\b")
_SPAN = re.compile(r"\b(?P<count>\d+|a few|few|a couple of|couple of|two|three|four|six) (?P<unit>weeks?|months?)\b")
_COUNTS = {"a few": 3, "few": 3, "a couple of": 2, "couple of": 2, "two": 2, "three": 3, "four": 4, "six": 6}
_BATTERY = re.compile(r"\bbatter(?:y|ies)\b", re.IGNORECASE)
_OWN_HOME = re.compile(r"\bown (?:home|the (?:home|house|property))\b", re.IGNORECASE)
_PRICE_FACT = re.compile(r"typical (?P<size>\d+(?:-\d+)? ?kW)[^.]*?around (?P<cost>£[\d,]+)")
# Product questions the knowledge section can answer: (question cue, knowledge cue).
_TOPICS = (
    (r"\b(?:cloud\w*|winter|rain\w*|dull|generate|work (?:in|when|on))\b", r"cloudy"),
    (r"\b(?:planning|permission|listed|conservation)\b", r"planning permission"),
    (r"\bvat\b", r"\bVAT\b"),
)
_FINANCE = re.compile(r"\b(?:financ\w*|monthly|payments?|pay (?:monthly|over)|loan|credit|spread the cost)\b")


class RulesBackend:
    name = "rules"
    model = ""

    def reply(self, context: AgentContext) -> Draft:
        if context.retry_because:
            # Deterministic: the same context would give the same text, so a person takes over.
            return self._draft(
                context, HANDOFF, _pick_up(context), f"the rules reply failed a check: {context.retry_because}"
            )
        reading = context.classification
        intent = reading.get("intent", "ambiguous")
        burst = " ".join(context.new_texts)
        words = optout.normalise(burst)
        if intent not in REMOVED_INTENTS:
            if _PERSON.search(words):
                return self._compose(context, PERSON, HANDOFF, _person_line(context), "asks for a person")
            if _BOT.search(words):
                if intent == "decline" or says_no(burst):  # "no thanks, you're a bot": honest, and no offer
                    text = f"I'm an automated assistant for {context.company_name}. Understood, I'll close your file."
                    return replace(self._draft(context, SEND, text, "calls us a bot and says no"), status="COLD")
                return self._compose(context, BOT, SEND, _bot_line(context), "asks whether this is automated")
            if _unsure(reading):
                confidence = reading.get("confidence", 0)
                reason = f"classifier unsure ({confidence}): {reading.get('reason', '')}"
                return self._draft(context, HANDOFF, _pick_up(context), reason)
        compose = _INTENT_LINES.get(intent, _ambiguous)
        action, text, reason = compose(context, burst, words)
        draft = self._compose(context, intent, action, text, reason)
        if intent == "price" and says_yes(burst):
            return replace(draft, status="HOT")  # "yes, how much is it" is a yes as well
        return draft

    def refine(self, text: str, classification: dict) -> dict | None:
        return None  # nothing to add to the offline classifier's reading

    def _compose(self, context: AgentContext, key: str, action: str, text: str, reason: str) -> Draft:
        lesson = _lesson_for(context, key)
        if lesson is None:
            return self._draft(context, action, text, reason)
        return self._draft(
            context, action, lesson.correct_response, f"{reason}; lesson: {lesson.title}", used=(lesson.id,)
        )

    def _draft(self, context: AgentContext, action: str, text: str, reason: str, used: tuple = ()) -> Draft:
        reading = context.classification
        status = reading.get("status", "")
        return Draft(
            action=action,
            text=to_gsm7(" ".join(text.split())),
            status="" if status == "UNCLEAR" else status,
            sentiment=reading.get("sentiment", ""),
            reason=f"rules: {reason}",
            lessons_used=used,
        )


def _unsure(reading: dict) -> bool:
    """Below MIN_CONFIDENCE a person looks, except a reply with no cue at all ("ok"): that gets one question."""
    if reading.get("confidence", 1.0) >= MIN_CONFIDENCE:
        return False
    return not (reading.get("intent") == "ambiguous" and reading.get("reason") == NO_RULE_MATCHED)


def _lesson_for(context: AgentContext, key: str) -> LessonView | None:
    """The highest-priority objection_handling / example_good lesson tagged `key` whose answer fits an SMS."""
    fitting = [
        lesson
        for lesson in context.lessons
        if lesson.lesson_type in LESSON_TYPES and key in lesson.tags and lesson.correct_response.strip()
    ]
    for lesson in sorted(fitting, key=lambda lesson: -lesson.priority):
        shape = segments(to_gsm7(lesson.correct_response))
        if shape.encoding == "GSM-7" and shape.segments <= 2:
            return lesson
    return None


# --- pieces --------------------------------------------------------------------------------


def _name(context: AgentContext) -> str:
    first = context.lead.first_name.strip()
    return "" if first.lower() in ("", "there") else first


def _comma_name(context: AgentContext) -> str:
    name = _name(context)
    return f", {name}" if name else ""


def _solar(context: AgentContext) -> bool:
    return "solar" in context.prompt.lower()


def _last_date(context: AgentContext) -> date | None:
    """The day of the lead's latest text: "later" and time slots count from it, never from a clock."""
    inbound = [turn for turn in context.thread if turn.direction == "inbound"] or list(context.thread)
    return inbound[-1].at.date() if inbound else None


def _pick_up(context: AgentContext) -> str:
    return f"Thanks{_comma_name(context)}, I'll ask one of the team to pick this up with you."


def _person_line(context: AgentContext) -> str:
    return f"Of course{_comma_name(context)}. I'll ask one of the team at {context.company_name} to get in touch."


def _bot_line(context: AgentContext) -> str:
    return (
        f"I'm an automated assistant for {context.company_name}. "
        "Happy to get one of the team to ring you if you'd prefer?"
    )


def _call_offer() -> str:
    return "Would a quick call with the team help?"


def _enquiry(context: AgentContext) -> str:
    month = context.lead.enquiry_month
    when = f"in {month}" if month else "a while back"
    if _solar(context):
        return f"You asked us about solar panels {when}"
    return f"You made an enquiry with us {when}"


def _slots(context: AgentContext) -> str:
    """Two time slots on the next two working days after the lead's text."""
    day = _last_date(context)
    if day is None:
        return "tomorrow morning or the day after in the afternoon"
    days = []
    while len(days) < 2:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days.append(day.strftime("%A"))
    return f"{days[0]} morning or {days[1]} afternoon"


def _check_back_month(words: str, context: AgentContext) -> tuple[str, str]:
    """(the month they mean, for the text; the month and year, for staff); from the burst, else 3 months on."""
    day = _last_date(context)
    month = _month_meant(words)
    if month is None and day is not None:
        span = _SPAN.search(words)
        if span:
            count = span.group("count")
            count = int(count) if count.isdigit() else _COUNTS[count]
            if span.group("unit").startswith("week"):
                later = day + timedelta(weeks=count)
                return _MONTHS[later.month - 1], f"{_MONTHS[later.month - 1]} {later.year}"
            return _month_after(day, count)
        if re.search(r"\bnext month\b", words):
            return _month_after(day, 1)
        if re.search(r"\bnext year\b", words):
            return "January", f"January {day.year + 1}"
        return _month_after(day, 3)
    if month is None:
        return "a few months", "in a few months"
    if day is None:
        return _MONTHS[month - 1], _MONTHS[month - 1]
    year = day.year if month > day.month else day.year + 1
    return _MONTHS[month - 1], f"{_MONTHS[month - 1]} {year}"


def _month_meant(words: str) -> int | None:
    named = _MONTH_WORDS.search(words)
    if named:
        number = next(index for index, name in enumerate(_MONTHS, 1) if name.lower().startswith(named["month"][:3]))
        return number % 12 + 1 if named["after"] and named["after"].strip() == "after" else number
    season = _SEASON_WORDS.search(words)
    if season:
        in_month, after_month = _SEASONS[season["season"]]
        return after_month if season["after"] else in_month
    return None


def _month_after(day: date, months: int) -> tuple[str, str]:
    index = day.month - 1 + months
    name = _MONTHS[index % 12]
    return name, f"{name} {day.year + index // 12}"


def _knowledge_sentence(context: AgentContext, cue: str) -> str:
    """The first sentence of the knowledge section matching `cue`, without its bullet."""
    knowledge = context.sections.get("knowledge", "")
    for line in knowledge.splitlines():
        for sentence in re.split(r"(?<=[.;])\s+", line.strip().lstrip("-* ").strip()):
            if re.search(cue, sentence):
                return sentence.rstrip(";.") + "."
    return ""


# --- one composer per intent: (action, text, reason) ---------------------------------------------


def _opt_out(context, burst, words):
    text = f"Understood, I've taken your number off our list. You won't hear from {context.company_name} again."
    return SEND, text, "opt-out: one confirmation"


def _hostile(context, burst, words):
    text = (
        f"Sorry to have bothered you{_comma_name(context)}. We texted because of your enquiry with "
        f"{context.company_name}. I've removed your number and you won't hear from us again."
    )
    return HANDOFF, text, "hostile: apology, removal confirmed, a person is told"


def _wrong_number(context, burst, words):
    text = f"Sorry to have bothered you. I've removed this number and you won't hear from {context.company_name} again."
    return SEND, text, "wrong number: apology, removal confirmed"


def _interested(context, burst, words):
    asked = any(turn.direction == "outbound" and _OWN_HOME.search(turn.text) for turn in context.thread)
    if context.booking_link:
        move, reason = f"pick a time for a quick call with the team here: {context.booking_link}", "the booking link"
    else:
        move, reason = f"the team can ring you {_slots(context)}, whichever suits.", "two time slots"
    if asked:  # one qualifying question per conversation
        return SEND, f"Great{_comma_name(context)}. {move[0].upper()}{move[1:]}", f"interested: {reason}"
    text = f"Great{_comma_name(context)}. Is it your own home? If so, {move}"
    return SEND, text, f"interested: qualifying question and {reason}"


def _wants_call(context, burst, words):
    when = " ".join(match.group(0).strip() for match in _WHEN.finditer(burst))
    when = " ".join(dict.fromkeys(when.split())) if when else ""  # "tomorrow tomorrow" said twice
    text = f"No problem{_comma_name(context)}, a member of the team will ring you{' ' + when if when else ''}."
    if context.booking_link:
        text += f" Or pick a time that suits here: {context.booking_link}"
    return HANDOFF, text, f"wants a call{' ' + when if when else ''}: a person rings them"


def _price(context, burst, words):
    fact = _PRICE_FACT.search(context.sections.get("knowledge", ""))
    if fact:
        text = (
            f"It depends on your roof and how much power you use, but a typical {fact['size']} system is around "
            f"{fact['cost']}. {_call_offer()}"
        )
        return SEND, text, "price: the typical figure from the knowledge section, a call offered"
    text = f"It depends on your home and what you need, so the team would price it properly. {_call_offer()}"
    return SEND, text, "price: no figure in the knowledge section, a call offered"


def _grant(context, burst, words):
    fact = ""
    if re.search(r"\b(?:boiler upgrade|bus)\b", words):
        fact = _knowledge_sentence(context, r"Boiler Upgrade Scheme")
    if fact:
        text = f"{fact} I won't guess what applies to you by text, so I'll ask one of the team to check."
    else:
        text = (
            "Good question. Grant rules change and depend on the household, so I won't guess by text. "
            "I'll ask one of the team to check what applies to you."
        )
    return HANDOFF, text, "grant: no eligibility promised, a person checks"


def _product_question(context, burst, words):
    if _FINANCE.search(words):
        return (
            SEND,
            "Payment options are something the team can go through on a call. Would that help?",
            ("product question: finance goes to a call"),
        )
    for question, cue in _TOPICS:
        if re.search(question, words):
            fact = _knowledge_sentence(context, cue)
            if fact:
                return SEND, f"{fact} {_call_offer()}", "product question: answered from the knowledge section"
    text = (
        f"Good question{_comma_name(context)}. I'd rather not guess by text: the team can answer that properly "
        "on a quick call. Would that help?"
    )
    return SEND, text, "product question: not in the knowledge section, a call offered"


def _who_is_this(context, burst, words):
    text = (
        f"It's {context.agent_name} at {context.company_name}. {_enquiry(context)}, which is how we have your "
        "number. Reply STOP if you'd rather not hear from us."
    )
    return SEND, text, "who is this: company and original enquiry, STOP reminder"


def _later(context, burst, words):
    month, staff = _check_back_month(words, context)
    return SEND, f"No problem{_comma_name(context)}. OK if I check back in {month}?", f"later: check back in {staff}"


def _already_has(context, burst, words):
    asked = any(turn.direction == "outbound" and _BATTERY.search(turn.text) for turn in context.thread)
    if asked or _BATTERY.search(burst):
        return SEND, f"Thanks for letting me know{_comma_name(context)}. I'll close your file.", "already has: closed"
    text = f"Thanks for letting me know{_comma_name(context)}. Out of interest, do you have a battery too?"
    return SEND, text, "already has: one battery question"


def _not_eligible(context, burst, words):
    text = f"Thanks for letting me know{_comma_name(context)}. I'll close your file. All the best."
    return SEND, text, "not eligible: thanked, file closed"


def _decline(context, burst, words):
    return SEND, "Understood, I'll close your file.", "declined: file closed"


def _ambiguous(context, burst, words):
    if optout.asks_for_another_channel(burst):
        text = f"Of course{_comma_name(context)}. I'll ask one of the team to get in touch that way."
        return HANDOFF, text, "asks to be contacted another way"
    subject = "solar" if _solar(context) else "it"
    sorry = f"Sorry {_name(context)}" if _name(context) else "Sorry"
    text = f"{sorry}, I'm not sure I follow. Is {subject} still something you'd like to look at?"
    return SEND, text, "ambiguous: one clarifying question"


def _auto_reply(context, burst, words):
    return HANDOFF, "", "automatic reply: nothing to answer; a person decides whether to follow up"


_INTENT_LINES = {
    "opt_out": _opt_out,
    "hostile": _hostile,
    "wrong_number": _wrong_number,
    "interested": _interested,
    "wants_call": _wants_call,
    "price": _price,
    "grant": _grant,
    "product_question": _product_question,
    "who_is_this": _who_is_this,
    "later": _later,
    "already_has": _already_has,
    "not_eligible": _not_eligible,
    "decline": _decline,
    "ambiguous": _ambiguous,
    "auto_reply": _auto_reply,
}
