"""The offline reply classifier: deterministic rules from a lead's reply to an intent and a lead status.

`classify(text)` needs no database, no clock and no LLM. Opt-out comes first and is campaigns.optout's
verdict, unchanged: `opt_out` is true exactly when the status is REMOVED. Then carrier auto-replies, then
the intents in a fixed order of precedence (a sarcastic "yeah right" is a refusal, not a yes; a time to
call beats a plain yes; "not now" beats "no thanks"). A reply that two intents of different statuses both
claim loses confidence, and below MIN_CONFIDENCE it is UNCLEAR: a human looks, nothing is guessed.
Sentiment is one of "positive", "neutral", "negative". docs/classifier.md gives the rules and their scores.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, fields

from campaigns import optout

HOT, WARM, COLD, REMOVED, UNCLEAR = "HOT", "WARM", "COLD", "REMOVED", "UNCLEAR"
STATUSES = (HOT, WARM, COLD, REMOVED, UNCLEAR)
POSITIVE, NEUTRAL, NEGATIVE = "positive", "neutral", "negative"
SENTIMENTS = (POSITIVE, NEUTRAL, NEGATIVE)
MIN_CONFIDENCE = 0.5
# The reason of a reply with no cue at all ("ok", "??"): nothing to weigh, so one clarifying question, not a person.
NO_RULE_MATCHED = "no rule matched"
CONFLICT_PENALTY = 0.15

# intent -> (lead status, sentiment)
INTENTS = {
    "opt_out": (REMOVED, NEGATIVE),
    "hostile": (REMOVED, NEGATIVE),
    "wrong_number": (REMOVED, NEUTRAL),
    "interested": (HOT, POSITIVE),
    "wants_call": (HOT, POSITIVE),
    "price": (WARM, NEUTRAL),
    "grant": (WARM, NEUTRAL),
    "product_question": (WARM, NEUTRAL),
    "who_is_this": (WARM, NEUTRAL),
    "later": (WARM, NEUTRAL),
    "already_has": (COLD, NEUTRAL),
    "not_eligible": (COLD, NEUTRAL),
    "decline": (COLD, NEGATIVE),
    "ambiguous": (UNCLEAR, NEUTRAL),
    "auto_reply": (UNCLEAR, NEUTRAL),
}
_KIND_INTENT = {optout.OPT_OUT: "opt_out", optout.WRONG_NUMBER: "wrong_number", optout.HOSTILE: "hostile"}


@dataclass(frozen=True)
class Classification:
    opt_out: bool
    status: str
    intent: str
    sentiment: str
    confidence: float
    reason: str

    def to_dict(self) -> dict:
        # Not dataclasses.asdict: its deep copy is most of the time of `classify_replies` on a large file.
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(field.name for field in fields(Classification))


# Text speak and common misspellings, spelt out before the intent patterns run.
_SLANG = {
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow", "tomoz": "tomorrow", "tomo": "tomorrow",
    "2moro": "tomorrow", "2morrow": "tomorrow", "2mrw": "tomorrow", "2day": "today", "2nite": "tonight",
    "tonite": "tonight", "gd": "good", "cba": "can't be bothered", "wat": "what", "wot": "what", "wht": "what",
    "hw": "how", "atm": "at the moment", "intrested": "interested", "intersted": "interested",
    "interseted": "interested", "interestd": "interested", "alredy": "already",
    "allready": "already", "alrdy": "already", "hav": "have", "thx": "thanks", "ty": "thanks", "ta": "thanks",
    "cheers": "thanks", "r": "are", "b4": "before", "l8r": "later", "nxt": "next", "defo": "definitely",
    "deffo": "definitely", "def": "definitely", "wanna": "want to", "gonna": "going to", "dunno": "don't know",
    "bout": "about", "abt": "about", "whats": "what's", "cant": "can't", "wont": "won't",
    "thats": "that's", "lets": "let's", "whos": "who's", "xmas": "christmas", "ppl": "people", "pv": "solar",
}  # fmt: skip
_SLANG_WORDS = re.compile(r"(?<![\w'])(" + "|".join(map(re.escape, _SLANG)) + r")(?![\w'])")

_YES = r"(?:yes+|yeah|yep|yup|yea|ya|yh|ye|yas|aye|sure)"
_MONTH = (
    r"(?:january|february|march|april|june|july|august|september|october|november|december"
    r"|(?:in|after|until|till|from|around|by|before|early|late|mid|end of) (?:jan|feb|may|sept?|oct|nov|dec))"
)


def _rule(*alternatives: str) -> Callable[[str], object]:
    return optout.any_of(*alternatives).search


_CUES: dict[str, Callable[[str], object]] = {
    "sarcasm": _rule(
        r"\byeah right\b",
        r"\blike i'd\b",
        r"^\W*as if\b",
        r"\bin your dreams\b",
        r"\bdream on\b",
        r"\bpigs might fly\b",
        r"\bpull the other one\b",
        r"\bnot a chance\b",
        r"\bno chance\b",
        r"\bnot likely\b",
        r"\boh great,? another\b",
        r"\bwhat a surprise\b",
        r"\bdo i look like\b",
    ),
    "wants_call": _rule(
        r"\b(?:best |good )?time to (?:call|ring|phone|reach)\b",
        r"\b(?:call|ring|phone) (?:me )?asap\b",
        r"\b(?:call|ring|phone|bell|buzz) (?:me|us|back|any ?time|after|before|at|on|tomorrow|tonight|later)\b",
        r"\bgive (?:me|us) a (?:call|ring|bell|buzz)\b",
        r"\b(?:someone|you) (?:call|ring|phone)\b",
        r"\b(?:rather|prefer to|like to|happy to) (?:talk|chat|speak)\b",
        r"\b(?:like|want|prefer|have) a (?:call|chat)\b",
        r"\bbest to (?:call|ring|phone)\b",
        r"\bspeak to (?:someone|a person|a human)\b",
    ),
    "not_eligible": _rule(
        r"\b(?:i|we) rent\b",
        r"\brent(?:ing|ed)\b",
        r"\btenants?\b",
        r"\blandlord\b",
        r"\bcouncil (?:house|property|flat)\b",
        r"\bhousing association\b",
        r"\bmoving (?:house|home|out|away|to|abroad)\b",
        r"\b(?:sold|selling) (?:the|my|our) (?:house|home|place|property)\b",
        r"\b(?:selling|sold) up\b",
        r"\b(?:don't|do not|no longer) live (?:there|here|at|in)\b",
        r"\bmoved (?:out|away|house|home)\b",
        r"\b(?:in|to) a flat\b",
        r"\bflat now\b",
        r"\blisted building\b",
        r"\bnot (?:the|a) (?:home ?owner|owner)\b",
        r"\bdon't own\b",
    ),
    "other_channel": optout.asks_for_another_channel,
    "add_on": _rule(
        r"^(?=.*\b(?:already|existing)\b).*\b(?:batter(?:y|ies)|charger|heat pump)\b",
    ),
    "already_has": _rule(
        r"\balready (?:got|have|had|has|installed|fitted|done|sorted|went)\b",
        r"\bexisting (?:panels|solar|system)\b",
        r"\b(?:had|got|have) (?:them|panels|solar|it|one) (?:fitted|installed|put in|done)\b",
        r"\b(?:got|have) (?:them|it|panels|solar) (?:already|ages ago|last year|years ago)\b",
        r"\b(?:had|got|have) (?:had )?(?:panels|solar) (?:for|since|installed|fitted|already|last|in)\b",
        r"\bwent (?:with|for|elsewhere)\b",
        r"\bused (?:another|someone else|a different)\b",
        r"\b(?:all )?sorted (?:now|thanks|already)\b",
        r"\ball done\b",
        r"\bby someone else\b",
        r"\b(?:got|have|installed|had) (?:solar|panels) (?:installed|fitted|in \d{4}|last|already)\b",
        r"\bgot (?:them|it) (?:done|from)\b",
        r"\bwe've got (?:them|solar|panels)\b",
        r"\b\d+ ?kw system\b",
    ),
    "product_performance": _rule(
        r"\b(?:panels?|they|it) work\b",
        r"\bwork (?:in|when|on)\b",
        r"\bcloudy\b",
        r"\bwinter output\b",
        r"\bgenerate\b",
    ),
    "later": _rule(
        r"\bmaybe (?:after|when|once|in|next)\b",
        r"\bnot (?:right |just )?now\b",
        r"\bnot (?:at|for) (?:the|a) (?:moment|minute|while)\b",
        r"\bnot yet\b",
        r"\bnot this (?:year|month|time)\b",
        r"\bnext (?:year|month|spring|summer|autumn|winter)\b",
        r"\b(?:after|over|past) (?:the )?(?:christmas|new year|holidays|easter|summer)\b",
        r"\bnew year\b",
        r"\b(?:few|couple of|coupla|\d+|two|three|six) (?:weeks|months)\b",
        r"\blater (?:in|on|this)\b",
        r"\bmaybe later\b",
        r"\bget back to (?:me|you) (?:in|after|next|later|when)\b",
        r"\bi'll get back to you\b",
        r"\b(?:ask|try|text|check|contact|message) (?:me )?(?:again|back)\b",
        r"\bat the (?:moment|minute)\b",
        r"\bbusy\b",
        r"\bthinking (?:about|of) it\b",
        r"\bmoney(?:'s| is)? tight\b",
        r"\b(?:maybe|in|till|until|by|around|come|this|next) (?:the )?(?:spring|summer|autumn|winter)\b",
        r"\b" + _MONTH + r"\b",
        r"\bdon't remove me\b",
    ),
    "who_is_this": _rule(
        r"\bwhere (?:are|r) you (?:based|from|located)\b",
        r"\bare you the (?:ones|company|people|firm)\b",
        r"\bwho(?:'s| is| are| r)? (?:this|you|dis|that)\b",
        r"^\W*(?:sorry,? )?who\b",
        r"\bwho's asking\b",
        r"\b(?:what|which) company\b",
        r"\bscam\b",
        r"\blegit\b",
        r"\bhow (?:did|have|do) you (?:get|got|have)\b",
        r"\bwhere (?:did|do) you get\b",
        r"\bdo i know you\b",
        r"\bwhat(?:'s| is) this (?:about|regarding|re)\b",
        r"\bdon't remember (?:enquiring|asking|contacting|you)\b",
        r"\bnever (?:enquired|asked|contacted)\b",
        r"\bis this (?:about|regarding|re)\b",
        r"\breal person\b",
        r"\b(?:a |an )?(?:bot|robot)\b",
    ),
    "decline": _rule(
        r"\b(?:absolutely|definitely|certainly) not\b",
        r"^\W*(?:no|nope|nah|naa|naw|na)\b",
        r"\b(?:no|nope|nah)\W*$",
        r"\bnot (?:my|our) (?:thing|cup of tea)\b",
        r"\bno,? thanks\b",
        r"\bno thank you\b",
        r"\bthanks but no\b",
        r"\bnot (?:really |at all )?(?:interested|bothered|fussed|keen)\b",
        r"\bno longer interested\b",
        r"\bnot for (?:us|me)\b",
        r"\b(?:we're|i'm|we are|i am) (?:fine|good|ok|alright|all good|sorted)\b",
        r"\btoo (?:expensive|dear|pricey)\b",
        r"\bcan't afford\b",
        r"\bwaste of (?:money|time)\b",
        r"\bdon't (?:need|want) (?:it|them|any|solar|panels)\b",
        r"\bhappy as (?:we|i) (?:are|am)\b",
        r"\bnot any ?more\b",
        r"\b(?:i'll|i will|we'll|we will) pass\b(?! (?:it|this|that|on|the|your))",
        r"\bpass\W*$",
        r"\bdecided (?:against|not)\b",
        r"\bchanged (?:my|our) minds?\b",
        r"\bcan't be bothered\b",
        r"\bnot worth it\b",
        r"\bno interest\b",
    ),
    "grant": _rule(
        r"\bgrants?\b",
        r"\bfree\b(?<!you free)(?! (?:survey|quote|visit|consultation|assessment|on|at|to|this|next|tomorrow))",
        r"\beco ?4?\b",
        r"\bschemes?\b",
        r"\bfund(?:ed|ing)\b",
        r"\bgovernment\b",
        r"\bsubsid\w+",
        r"\bbenefits\b",
        r"\bboiler upgrade\b",
    ),
    "interested_strong": _rule(
        r"\binterested\b",
        r"\b" + _YES + r",? (?:please|go on|let's|still)\b",
        r"\bgo on then\b",
        r"\bgo ahead\b",
        r"\bbook (?:me|us|it|a|in)\b",
        r"\bcount me in\b",
        r"\blet's do it\b",
        r"\bsounds (?:good|great)\b",
        r"\bkeen\b",
        r"\bdefinitely\b(?! not)",
        r"\babsolutely\b(?! not)",
        r"\bwhat's next\b",
        r"\bnext steps?\b",
        r"\bsend (?:me |us )?(?:the |a )?link\b",
        r"\btell me more\b",
        r"\bmore info\b",
        r"\b(?:hear|know) more\b",
        r"\blove to\b",
        r"\blike to (?:hear|know|get|go)\b",
        r"\bwhen (?:can|could|would|will) (?:you|someone|they)\b",
        r"\bstill (?:want|need) (?:them|it|panels|solar)\b",
        r"\b(?:like|want|get) (?:a|to get a|to book a) (?:quote|survey|visit)\b",
        r"\bsurvey\b",
        r"\bcome (?:round|out|over)\b",
        r"\bstop by\b",
        r"\bstill on (?:the|my|our) (?:list|cards|radar)\b",
        r"\bstill (?:looking|considering)\b",
        r"\bmeaning to\b",
        r"\bwhy not\b",
        r"\bwaiting for you\b",
        r"\bgood timing\b",
        r"\bworks for me\b",
        r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday) (?:works|is good|is fine)\b",
    ),
    "price": _rule(
        r"\bhow much\b",
        r"\bcost\w*\b",
        r"\bprice\w*\b",
        r"\bballpark\b",
        r"\bquote\b",
        r"\bgrand\b",
        r"£\s?\d",
        r"\b\d+k\b",
        r"\bvat\b",
        r"\bcharg(?:e|ing)\b",
        r"\bwhat sort of money\b",
        r"\brough (?:figure|idea)\b",
    ),
    "product_question": _rule(
        r"\b(?:panels?|batter(?:y|ies)|system|inverter)\b[^.!]*\?",
        r"\bdo you (?:do|fit|install|offer|supply|sell)\b",
        r"\bwhat (?:make|brand|type|kind|sort) of\b",
        r"\bpayback\b",
        r"\bsavings?\b",
        r"\bbatter(?:y|ies)\b",
        r"\bev\b",
        r"\bcharger\b",
        r"\bfinance\b",
        r"\bmonthly\b",
        r"\bpayments?\b",
        r"\bwarrant(?:y|ies)\b",
        r"\bguarantee\b",
        r"\binverter\b",
        r"\broof\b",
        r"\bplanning\b",
        r"\bconservation\b",
        r"\bsell (?:the |it )?\w* back\b",
        r"\bexport\b",
        r"\bseg\b",
        r"\bmcs\b",
        r"\bcertified\b",
        r"\bheat pump\b",
        r"\bhow (?:long|many|big)\b",
        r"\bsize\b",
        r"\binstall\w*\b",
        r"\bmaintenance\b",
        r"\bscaffold\w*\b",
        r"\b(?:north|east|south|west) facing\b",
        r"\bworth it\b",
    ),
    "pleased": _rule(
        r"\b(?:great|brilliant|perfect|fab|lovely|excellent|smashing)\b",
    ),
    "yes": _rule(
        r"^\W*(?:(?:hi|hiya|hello|hey|morning|afternoon|evening|👍)\W*)?" + _YES + r"\b",
    ),
}

# Which intent each cue stands for, with its confidence and reason, in order of precedence.
_PRECEDENCE = (
    ("sarcasm", "decline", 0.8, "sarcasm or a flat refusal"),
    ("wants_call", "wants_call", 0.85, "asks for a call"),
    ("other_channel", "ambiguous", 0.6, "asks to be contacted another way; not an opt-out"),
    ("not_eligible", "not_eligible", 0.8, "renting, moving or a flat"),
    ("add_on", "product_question", 0.75, "has panels, asks about a battery or charger"),
    ("already_has", "already_has", 0.8, "already has panels or went elsewhere"),
    ("product_performance", "product_question", 0.75, "asks how the panels perform"),
    ("later", "later", 0.75, "not now: later"),
    ("who_is_this", "who_is_this", 0.8, "asks who we are"),
    ("decline", "decline", 0.8, "declines"),
    ("grant", "grant", 0.75, "asks about grants or free panels"),
    ("interested_strong", "interested", 0.85, "says they are interested"),
    ("price", "price", 0.8, "asks about price"),
    ("product_question", "product_question", 0.7, "asks about the product"),
    ("yes", "interested", 0.75, "says yes"),
    ("pleased", "interested", 0.7, "sounds pleased"),
)
_POSITIVE_EMOJI = re.compile("[\U0001f600-\U0001f60d\U0001f642\U0001f44d\u263a\u2764\U0001f917\U0001f64f]")
_NEGATIVE_EMOJI = re.compile("[\U0001f620-\U0001f624\U0001f612\U0001f644\U0001f44e\U0001f92c]")


def _result(intent: str, confidence: float, reason: str, *, sentiment: str = "") -> Classification:
    status, usual_sentiment = INTENTS[intent]
    return Classification(
        opt_out=status == REMOVED,
        status=status,
        intent=intent,
        sentiment=sentiment or usual_sentiment,
        confidence=round(max(confidence, 0.0), 2),
        reason=reason,
    )


def _opt_out(text: str) -> Classification | None:
    if optout.is_opt_out_keyword(text):
        return _result("opt_out", 1.0, "opt-out keyword")
    phrase = optout.opt_out_phrase(text)
    if phrase is None:
        return None
    intent = _KIND_INTENT[optout.phrase_kind(phrase)]
    return _result(intent, 0.95, f"opt-out phrase: {phrase}")


def _no_intent(text: str) -> Classification:
    """Nothing matched: an acknowledgement, an emoji or something the rules do not know; an emoji gives the mood."""
    if _POSITIVE_EMOJI.search(text):
        return _result("ambiguous", 0.3, NO_RULE_MATCHED, sentiment=POSITIVE)
    if _NEGATIVE_EMOJI.search(text):
        return _result("ambiguous", 0.3, NO_RULE_MATCHED, sentiment=NEGATIVE)
    return _result("ambiguous", 0.3, NO_RULE_MATCHED)


def _words(text: str) -> str:
    return _SLANG_WORDS.sub(lambda match: _SLANG[match.group(1)], optout.normalise(text))


def says_yes(text: str) -> bool:
    """The reply opens with a yes ("yes how much is it"), whatever intent won."""
    return bool(_CUES["yes"](_words(text)))


def says_no(text: str) -> bool:
    """The reply holds a refusal ("no thanks, you're just a bot"), whatever intent won."""
    return bool(_CUES["decline"](_words(text)) or _CUES["sarcasm"](_words(text)))


def _by_intent(text: str) -> Classification:
    words = _words(text)
    matched = [rule for rule in _PRECEDENCE if _CUES[rule[0]](words)]
    if not matched:
        return _no_intent(text)
    _, intent, confidence, reason = matched[0]
    status = INTENTS[intent][0]
    rivals = {INTENTS[other][0] for _, other, _, _ in matched[1:]} - {status}
    confidence -= CONFLICT_PENALTY * len(rivals)
    if confidence < MIN_CONFIDENCE:
        return _result("ambiguous", confidence, f"low confidence: {reason}, but also {len(rivals)} other reading(s)")
    return _result(intent, confidence, reason)


def classify(text: str) -> Classification:
    """What a lead's reply means: opt-out first, then auto-replies, then the intents by precedence."""
    if not text.strip():
        return _result("ambiguous", 0.0, "empty message")
    opted_out = _opt_out(text)
    if opted_out is not None:
        return opted_out
    if optout.is_carrier_auto_reply(text):
        return _result("auto_reply", 0.9, "carrier notice or automatic reply")
    return _by_intent(text)
