"""Opt-out, opt-in and auto-reply rules for inbound texts: the compliance floor, pure functions of the text.

No models, no model calls: whether a lead is left alone must never depend on an LLM being right, and
these rules run before anything else looks at a reply. Two strengths of opt-out:

- a keyword: the whole message is STOP, UNSUBSCRIBE, ... (any case, punctuation and emoji around it
  ignored). It is applied inside the webhook request, before the 200 goes back.
- a phrase: "remove me", "take me off your list", "wrong number", a death in the family, abuse,
  🛑 ... found anywhere in the message. It acts the same, later, when the reply is processed.

Look-alikes are not opt-outs: "don't stop, I'm interested", "stop by whenever you like", "please
don't remove me, just call in March"; nor is asking to be reached another way ("stop texting and
email me instead"), which a human answers. Every rule is a pattern, never a list of whole texts.
See docs/classifier.md for how the rules are measured.
"""

import functools
import re

KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT-OUT", "OPT OUT", "STOP ALL"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP"})

# What a phrase means for the lead: every kind is an opt-out; the kind picks the follow-up
# (a wrong number or a death is suppressed as such; abuse is also shown to a human).
OPT_OUT = "opt_out"
WRONG_NUMBER = "wrong_number"
HOSTILE = "hostile"

_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"'})

# Text speak that opt-out phrases are written in; each maps to the word the patterns expect.
_SHORTHAND = {
    "pls": "please", "plz": "please", "plse": "please", "pleaseee": "please", "u": "you", "ur": "your",
    "txt": "text", "txts": "texts", "txting": "texting", "msg": "message", "msgs": "messages",
    "msging": "messaging", "dont": "don't", "do'nt": "don't", "im": "i'm", "rmv": "remove", "nomore": "no more",
    "ive": "i've", "youve": "you've", "isnt": "isn't", "doesnt": "doesn't", "ain't": "isn't", "aint": "isn't",
}  # fmt: skip
_SHORTHAND_WORDS = re.compile(r"(?<![\w'])(" + "|".join(map(re.escape, _SHORTHAND)) + r")(?![\w'])")


def any_of(*patterns: str, flags: int = 0) -> re.Pattern[str]:
    """One regex matching any of the patterns. Those starting at a word boundary share one, so the
    engine tries them only where a word starts (several times faster than a plain alternation)."""
    at_word = [pattern.removeprefix(r"\b") for pattern in patterns if pattern.startswith(r"\b")]
    others = [pattern for pattern in patterns if not pattern.startswith(r"\b")]
    if at_word:
        others.append(r"\b(?:" + "|".join(at_word) + ")")
    return re.compile("|".join(others), flags)


@functools.lru_cache(maxsize=16)  # one reply is looked at by several rules in turn
def normalise(text: str) -> str:
    """Lower case, straight quotes, common text speak spelt out, single spaces; punctuation kept."""
    lowered = " ".join(text.translate(_QUOTES).lower().split())
    return _SHORTHAND_WORDS.sub(lambda match: _SHORTHAND[match.group(1)], lowered)


def _bare(text: str) -> str:
    """The message without punctuation, symbols or emoji around it, in capitals with single spaces."""
    return " ".join(_EDGES.sub("", text).split()).upper()


def is_opt_out_keyword(text: str) -> bool:
    """The whole message is an opt-out keyword ("Stop!!", " stop. ", "STOP 🛑", "opt-out")."""
    return _bare(text) in KEYWORDS


def is_opt_in_keyword(text: str) -> bool:
    """The whole message is START or UNSTOP."""
    return _bare(text) in OPT_IN_KEYWORDS


def is_yes(text: str) -> bool:
    """The whole message is YES: an opt-in only from a number an opt-out suppressed (the caller decides)."""
    return _bare(text) == "YES"


# Negated or other-sense uses of the opt-out verbs, blanked before the phrases are looked for:
# "don't stop", "please don't remove me", "stop by/round/over", "stop and think", "I'd stop at 4".
_LOOK_ALIKES = any_of(
    r"\b(?:don't|do not|never|not|no need to|won't|wouldn't|shouldn't)\s+"
    r"(?:stop|remove|unsubscribe|delete|take (?:me|us) off)\w*",
    r"\bstop(?:ping)?\s+(?:by|round|over|off|in|at|and|for)\b",
    r"\b(?:don't|do not) (?:text|message)\w* (?:me )?(?:after|before|at \d|during|while|so early|so late|in the)\b",
)

# Asking to be reached another way is not an opt-out ("stop texting and email me instead").
_OTHER_CHANNEL = any_of(
    r"\binstead\b",
    r"\b(?<!don't )(?<!not )(?:e-?mail|call|ring|phone|whatsapp)\s+(?:me|us)\b",
    r"\b(?:by|via|on)\s+(?:e-?mail|post|letter|whatsapp|the phone)\b",
    r"\b(?:e-?mail|call|ring|phone)(?:ing)? (?:is|would be|'d be|'s) (?:better|best|easier|fine|preferred)\b",
)

# Names people call a sender they feel pestered by (singular where nobody would say it of a product).
_INSULTS = (
    "scammers|scum|wankers?|tossers?|twats?|cunts?|dickheads?|bellends?|idiots|morons|muppets|clowns|cowboys"
    "|chancers|crooks|conmen|con artists|sharks|liars|thieves|parasites|vultures|leeches|arseholes?|assholes?"
    "|pricks|knobheads?|pillocks"
)
# "Don't call me" is left out: it often means "text me instead".
_CONTACT_VERBS = "text|messag|contact|bother|pester|spam|send|sms|harass|e-?mail"

_NAME_AFTER_NOT = re.compile(
    r"\b(?:i'?m|i am|this is|it'?s|it is)\s+not\s+([a-z]+)\b"
    r"|\b(?:this|it)\s+(?:isn'?t|is not|ain'?t)\s+([a-z]+)\b"
    r"|^\W*(?:sorry,?\s*)?not\s+([a-z]+)\b",
    re.IGNORECASE,
)
_NAME_NOT_HERE = re.compile(
    r"\bno\s+([a-z]+)\s+(?:here|at this number|on this number|lives here)\b"
    r"|\bdon'?t know (?:a|an|any|anyone called|anybody called)\s+([a-z]+)\b",
    re.IGNORECASE,
)

# Common UK first names, so a name written in lower case ("im not dave") is still recognised.
_FIRST_NAMES = frozenset(
    """
    adam adrian alan alex alexander alice alison amanda amy andrew andy angela ann anna anne anthony barbara barry
    ben beth bill bob brian carl carol caroline catherine charles charlie charlotte chris christine claire colin
    craig dan daniel darren dave david dawn debbie deborah dennis derek diane donna doreen dorothy ed edward elaine
    elizabeth emily emma eric fiona frank gary gavin geoff george gordon graham hannah harry helen ian jack jackie
    james jamie jane janet jason jean jeff jennifer jenny jess jim jo joan joanne joe john jon jonathan julie karen
    kate katie keith kelly ken kevin kim laura lee les lesley linda lisa liz louise lucy lynn margaret maria mark
    martin mary matt matthew maureen mel michael michelle mick mike natalie neil nick nicola nigel norman pam pat
    patricia paul pauline pete peter phil rachel ray rebecca richard rob robert roger ron rose ruth ryan sally sam
    sandra sarah scott sean sharon shaun simon sophie stephen steve steven stuart sue susan terry tim tina tom tony
    tracey tracy trevor valerie vicky wayne wendy william
    """.split()
)
# Capitalised words that follow "not" or "no" without being anyone's name.
_NOT_NAMES = frozenset(
    """
    a about after again all always an any anymore anyone at available bad because been before bothered busy but
    cheap convinced currently doing enough even ever exactly for free fussed going gonna good great happy home i
    if in interested it just keen likely looking me more much my necessarily need needed now on one only our
    possible quite ready really right selling since so sold sure that the thanks them these they this those till
    today tomorrow tonight too until us very we worth yet you your yours problem way chance idea
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
    september october november december spring summer autumn winter christmas easter
    """.split()
)


def _is_name(word: str) -> bool:
    lowered = word.lower()
    if lowered in _NOT_NAMES:
        return False
    return lowered in _FIRST_NAMES or word[:1].isupper()


def _names_someone_else(text: str) -> bool:
    """ "I'm not Dave", "Not Karen", "no Sarah here", "don't know a John": the lead is someone else."""
    lowered = text.lower()
    if "no" not in lowered and "n't" not in lowered:
        return False
    for pattern in (_NAME_AFTER_NOT, _NAME_NOT_HERE):
        for match in pattern.finditer(text):
            if any(word and _is_name(word) for word in match.groups()):
                return True
    return False


# (name, kind, ignored when the message asks for another channel, patterns), checked in this order,
# so a death, a wrong number or abuse is named as such even when the message also says "stop".
_PHRASE_TABLE = (
    (
        "deceased",
        WRONG_NUMBER,
        False,
        (
            r"\bpassed (?:away|on)\b",
            r"\bdeceased\b",
            r"\bno longer with us\b",
            r"\brest in peace\b",
            r"\b(?:he|she|they|mum|mam|mom|dad|husband|wife|partner|mother|father|son|daughter|owner)"
            r"(?:'s| has| had| have)? (?:sadly |recently )?(?:died|passed)\b",
            r"\blate (?:husband|wife|partner|mother|father|mum|dad)\b",
        ),
    ),
    (
        "wrong number",
        WRONG_NUMBER,
        False,
        (
            r"\bwrong (?:number|no\b|person|phone|mobile|guy|fella|bloke|lady|woman|man|one)",
            r"\b(?:no longer|not) (?:at|on) this (?:number|phone|mobile)\b",
            r"\b(?:doesn't|does not|don't|do not|no longer)(?: have| has| use| uses| own)?"
            r" (?:this|that|the) (?:number|phone|mobile)\b",
            r"\bnot (?:my|his|her|their) (?:number|phone|mobile)\b",
            r"\b(?:this|it)(?:'s| is|s)? (?:not|isn't) (?:\w+'s|his|her|their) (?:number|phone|mobile)\b",
            r"\bchanged (?:my|his|her|their) (?:number|phone)\b",
            r"\b(?:this|the) (?:phone|number|mobile) (?:belongs to|is now) (?:my|his|her|someone)\b",
            r"\bnew (?:owner|user) of this (?:number|phone)\b",
            r"\bno ?(?:one|body)\b[^.?!]{0,25}\b(?:by that name|called|named|of that name)\b",
        ),
    ),
    (
        "abuse",
        HOSTILE,
        False,
        (
            r"\b(?:f+u+c+k+|f\*+k?|fck|feck|f+)\s+(?:off|you)\b",
            r"\bf+u+c+k+\w*",
            r"\bget (?:lost|stuffed|fucked|f\*+ed)\b",
            r"\b(?:piss|sod|bugger|naff|jog|shove|bog|clear) off\b",
            r"\b(?:do one|jog on)\b",
            r"\bhow dare you\b",
            r"\breport(?:ing|ed)? (?:you|this|u|them|it|to)\b",
            r"^\W*reported\W*$",
            r"\bharass\w*",
            r"\b(?:ico|trading standards|police|ofcom|solicitor)\b",
            rf"\b(?:{_INSULTS})\b",
        ),
    ),
    (
        "🛑",
        OPT_OUT,
        False,
        (r"[\U0001F6D1\u26D4]",),
    ),
    (
        "unsubscribe",
        OPT_OUT,
        False,
        (
            r"\bunsub(?:scribe)?\w*",
            r"\bopt(?:ing)?[- ]?(?:me |us )?out\b",
            r"\boptout\b",
        ),
    ),
    (
        "remove me",
        OPT_OUT,
        False,
        (
            r"\b(?:remove|delete|erase|wipe)\s+(?:me|us|him|her|this number|from"
            r"|(?:my|our|his|her) (?:number|details|name|data|info|information|contact))\b",
            r"^\W*(?:please |just )?(?:remove|delete)\W*$",
            r"\b(?:number|details)\b[^.?!]{0,30}\b(?:remove|delete) (?:it|them)\b",
            r"\b(?:this is|it's|its|more|bloody|just|utter) spam\b",
            r"^\W*spam\W*$",
        ),
    ),
    (
        "take me off your list",
        OPT_OUT,
        False,
        (
            r"\btake (?:me|us|him|her|this number|(?:my|our) \w+) (?:off|out of)\b",
            r"\b(?:off|out of|from) (?:your|the) (?:mailing )?(?:list|database|system|books|records|contacts)\b",
        ),
    ),
    (
        "leave me alone",
        OPT_OUT,
        False,
        (
            r"\bleave (?:me|us) (?:alone|be)\b",
            r"\bgo away\b",
        ),
    ),
    (
        "blocking you",
        OPT_OUT,
        False,
        (r"\bblock(?:ing|ed)? (?:you|this number|your number|this)\b",),
    ),
    (
        "asked you to stop",
        OPT_OUT,
        False,
        (r"\b(?:asked|told) (?:you|u) (?:to stop|not to)\b",),
    ),
    (
        "don't text me",
        OPT_OUT,
        True,
        (
            rf"\b(?:don't|do not|never)(?: ever)? (?:{_CONTACT_VERBS})\w*(?: me| us| this number| again)\b",
            r"\b(?:don't|do not|never)(?: ever)? (?:text|message|contact)\w*\W*$",
        ),
    ),
    (
        "stop texting me",
        OPT_OUT,
        True,
        (rf"\bstop (?:\w+ )?(?:call|ring|phon|{_CONTACT_VERBS})\w*",),
    ),
    (
        "no more texts",
        OPT_OUT,
        True,
        (
            r"\bno more (?:texts?|messages?|sms|contact)\b",
            r"^\W*no more\W*(?:please|thanks|thank you)?\W*$",
            r"\bdon't want\b[^.?!]{0,25}\b(?:texts|messages)\b",
        ),
    ),
    (
        "stop",
        OPT_OUT,
        True,
        (
            r"^\W*(?:(?:please|just|now|ok|oh|enough|enough now|i said)\W+)?stop\b",
            r"\bstop\W*$",
        ),
    ),
)
_PHRASES = tuple((name, kind, any_of(*patterns), channel) for name, kind, channel, patterns in _PHRASE_TABLE)
# "I'm not Dave" is looked for after death, wrong number and abuse, before the plain requests.
_SOMEONE_ELSE_AT = 3
_KINDS = {name: kind for name, kind, _, _ in _PHRASES} | {"someone else": WRONG_NUMBER}


def opt_out_phrase(text: str) -> str | None:
    """The opt-out phrase found in a reply ("remove me", "wrong number", "abuse", "🛑", ...), or None."""
    cleaned = _LOOK_ALIKES.sub(" ", normalise(text))
    other_channel = _OTHER_CHANNEL.search(cleaned) is not None
    for index, (name, _, pattern, channel_sensitive) in enumerate(_PHRASES):
        if index == _SOMEONE_ELSE_AT and _names_someone_else(text.translate(_QUOTES)):
            return "someone else"
        if (not channel_sensitive or not other_channel) and pattern.search(cleaned):
            return name
    return None


def asks_for_another_channel(text: str) -> bool:
    """ "Email me instead", "ring me, don't text": the lead wants another way of contact, which is no opt-out."""
    return _OTHER_CHANNEL.search(normalise(text)) is not None


def phrase_kind(phrase: str) -> str:
    """What an opt-out phrase means: OPT_OUT, WRONG_NUMBER (also a death) or HOSTILE."""
    return _KINDS[phrase]


_AUTO_REPLY = any_of(
    r"\b(?:does not|doesn't|cannot|can't|is unable to) (?:accept|receive) (?:sms|texts?)\b",
    r"\b(?:message|sms|text)\b[^.]{0,20}\b(?:not|could not be|couldn't be|cannot be|was not) delivered\b",
    r"\bundeliver(?:able|ed)\b",
    r"\bdelivery (?:failed|failure)\b",
    r"\bout of (?:the )?office\b",
    r"\bauto[- ]?(?:matic |mated )?(?:reply|response|responder|message)\b",
    r"\bautoreply\b",
    r"\bthis is an automated\b",
    r"\bon annual leave\b",
    r"\bdriving with do not disturb\b",
    r"\bdo not disturb while driving\b",
    r"\b(?:mailbox|inbox|number) is not monitored\b",
    r"\b(?:no longer|not) in service\b",
    r"\b(?:person|number|subscriber) you (?:are trying to reach|have (?:texted|called|messaged))\b",
    r"\bhandset is (?:unavailable|switched off)\b",
    r"\b(?:respond|reply|get back to you) (?:on|upon) my return\b",
)


def is_carrier_auto_reply(text: str) -> bool:
    """A carrier notice or an automatic answer (out of office, driving mode): not a reply from the lead."""
    return _AUTO_REPLY.search(normalise(text)) is not None
