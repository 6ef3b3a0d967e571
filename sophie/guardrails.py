"""The checks every AI text passes before anything is sent (docs/guardrails.md).

Each check is a pure function `(text, context, previous_text) -> Verdict`: no database, no clock, no
model. `guardrails_check` runs them all in a fixed order; the agent regenerates once with the first
failure's detail, then hands the lead to a person. Lesson-derived patterns are compiled once per
lesson set, so a check over one text takes microseconds.
"""

import difflib
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from campaigns import content, optout
from sophie.llm.base import AgentContext, LessonView

NEVER_RULE, BLACKLIST_WORD = "never_rule", "blacklist_word"
# A never-rule with one of these tags makes any money amount or percentage not in the knowledge a failure.
PRICE_TAGS = frozenset({"price", "savings"})
MAX_SEGMENTS = 2
REPEAT_RATIO = 0.9


@dataclass(frozen=True)
class Verdict:
    name: str
    passed: bool
    detail: str = ""  # one sentence for the model's regeneration and for staff; "" when passed

    def to_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


def _ok(name: str) -> Verdict:
    return Verdict(name, True)


def _fail(name: str, detail: str) -> Verdict:
    return Verdict(name, False, detail)


@lru_cache(maxsize=64)  # every check reads the same text
def _plain(text: str) -> str:
    """What the checks read: GSM-7 look-alikes replaced (curly quotes, long dashes), as the text is sent."""
    return content.to_gsm7(text or "")


# --- Phrases from lessons -------------------------------------------------------------------

# A quoted phrase in a never-rule: the opening quote starts a word, the closing one ends it, so the
# apostrophes in "household's" or "don't" never open or close one. Curly quotes are straightened first.
_QUOTED = re.compile(r"""(?<!\w)"([^"\n]+)"(?!\w)|(?<!\w)'((?:[^'\n]|'(?=\w))+)'(?!\w)""")


def quoted_phrases(text: str) -> list[str]:
    """The phrases a never-rule's description or trigger bans: everything in '...' or "..." quotes."""
    found = (match.group(1) or match.group(2) for match in _QUOTED.finditer(_plain(text)))
    phrases = (" ".join(phrase.split()) for phrase in found)
    return [phrase for phrase in phrases if any(char.isalnum() for char in phrase)]


@dataclass(frozen=True)
class _Phrase:
    folded: str
    pattern: re.Pattern[str]  # the folded phrase as whole words
    phrase: str  # as written in the lesson
    title: str  # the lesson's


@dataclass(frozen=True)
class _PhraseSet:
    phrases: tuple[_Phrase, ...]  # longest first, so "funding ends soon" is named rather than "ends soon"

    def first(self, text: str) -> _Phrase | None:
        """The first phrase in the text as whole words ("free" is not in "freezer"), any case, any spacing."""
        folded = _fold(text)
        # A substring test in C rules out almost every phrase before any regex runs.
        return next((p for p in self.phrases if p.folded in folded and p.pattern.search(folded)), None)


@lru_cache(maxsize=64)
def _fold(text: str) -> str:
    return " ".join(_plain(text).split()).casefold()


def _phrase_set(phrases: list[tuple[str, str]]) -> _PhraseSet:
    entries: dict[str, _Phrase] = {}
    for phrase, title in phrases:
        folded = _fold(phrase)
        if folded and folded not in entries:
            entries[folded] = _Phrase(folded, re.compile(rf"(?<!\w){re.escape(folded)}(?!\w)"), phrase, title)
    return _PhraseSet(tuple(sorted(entries.values(), key=lambda entry: -len(entry.folded))))


@dataclass(frozen=True)
class _Rules:
    blacklist: _PhraseSet
    never: _PhraseSet
    price_rule: str  # title of a never-rule tagged price/savings, or ""


@lru_cache(maxsize=32)
def _compile(lessons: tuple[LessonView, ...]) -> _Rules:
    words, never, price_rule = [], [], ""
    for lesson in lessons:
        if lesson.lesson_type == BLACKLIST_WORD and lesson.title.strip():
            words.append((lesson.title.strip(), lesson.title))
        elif lesson.lesson_type == NEVER_RULE:
            for phrase in quoted_phrases(lesson.description) + quoted_phrases(lesson.trigger):
                never.append((phrase, lesson.title))
            if not price_rule and PRICE_TAGS.intersection(lesson.tags):
                price_rule = lesson.title
    return _Rules(_phrase_set(words), _phrase_set(never), price_rule)


_last: tuple[tuple[LessonView, ...], _Rules] | None = None


def _rules(context: AgentContext) -> _Rules:
    # The same tuple object is checked several times in a row: skip even hashing it then.
    global _last
    last = _last
    if last is not None and last[0] is context.lessons:
        return last[1]
    try:
        rules = _compile(context.lessons)
    except TypeError:  # a list of lessons, or a lesson with list tags, cannot be a cache key
        rules = _compile.__wrapped__(context.lessons)
    _last = (context.lessons, rules)
    return rules


# --- The checks -----------------------------------------------------------------------------


def check_blacklist(text: str, context: AgentContext, previous_text: str = "") -> Verdict:
    found = _rules(context).blacklist.first(text)
    if found is None:
        return _ok("blacklist")
    word = found.phrase
    kind = "phrase" if len(word.split()) > 1 else "word"
    return _fail("blacklist", f'The text contains the blacklisted {kind} "{word}".')


def check_never_rules(text: str, context: AgentContext, previous_text: str = "") -> Verdict:
    found = _rules(context).never.first(text)
    if found is None:
        return _ok("never_rules")
    return _fail("never_rules", f'The text contains "{found.phrase}", which the rule "{found.title}" forbids.')


# A number, then what makes it money or a share: a currency before it, or a unit after it.
_NUMBER = re.compile(r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_CURRENCY_BEFORE = re.compile(r"(?:£|\$|€|\bgbp)\s?$", re.IGNORECASE)
_UNIT_AFTER = re.compile(
    r"(?:\s?(?P<mul>k|m|thousand|million|grand)(?!\w))?"
    r"(?:\s?(?P<unit>%|per\s?cent(?!\w)|percent(?!\w)|pounds?(?!\w)|quid(?!\w)|gbp(?!\w)))?",
    re.IGNORECASE,
)
_MULTIPLIERS = {"k": 1000, "thousand": 1000, "grand": 1000, "m": 1_000_000, "million": 1_000_000}
_CURRENCY = {"£": "£", "$": "$", "€": "€", "gbp": "£"}


def money_amounts(text: str) -> list[tuple[str, tuple[str, Decimal]]]:
    """Each money amount or percentage as written, with a comparable key: "£7,000" and "7k pounds" are
    both ("£", 7000); "70%" and "70 per cent" are both ("%", 70). Bare numbers are not amounts."""
    plain = _plain(text)
    found = []
    for number in _NUMBER.finditer(plain):
        before = _CURRENCY_BEFORE.search(plain, max(0, number.start() - 5), number.start())
        after = _UNIT_AFTER.match(plain, number.end())
        unit = "".join((after.group("unit") or "").lower().split())
        if unit in ("%", "percent"):
            key = "%"
        elif before:
            key = _CURRENCY[before.group(0).strip().lower()]
        elif unit:
            key = "£"  # pounds, quid, GBP
        else:
            continue
        value = Decimal(number.group(0).replace(",", "")) * _MULTIPLIERS.get((after.group("mul") or "").lower(), 1)
        start = before.start() if before else number.start()
        found.append((plain[start : after.end()].strip(), (key, value.normalize())))
    return found


@lru_cache(maxsize=32)
def _known_amounts(knowledge: str) -> frozenset[tuple[str, Decimal]]:
    return frozenset(key for _, key in money_amounts(knowledge))


def check_price_promise(text: str, context: AgentContext, previous_text: str = "") -> Verdict:
    rule = _rules(context).price_rule
    if not rule:
        return _ok("price_promise")
    known = _known_amounts(context.sections.get("knowledge", "") or "")
    for written, key in money_amounts(text):
        if key not in known:
            return _fail(
                "price_promise",
                f'The text states "{written}", which is not in the knowledge section ("{rule}"): '
                "give no figure the client has not written down.",
            )
    return _ok("price_promise")


# Symbols and pictographs (So, Sk, Sm), surrogates and private use, and the emoji glue characters.
_PICTOGRAPH_CATEGORIES = frozenset({"So", "Sk", "Sm", "Cs", "Co"})
_EMOJI_GLUE = frozenset("\u200d\ufe0f\ufe0e\u20e3")


_GSM7 = content.GSM7_BASIC | content.GSM7_EXTENDED


def _outside_gsm7(text: str) -> list[str]:
    plain = _plain(text)
    outside = set(plain) - _GSM7
    return [char for char in plain if char in outside] if outside else []


def _pictograph(char: str) -> bool:
    return char in _EMOJI_GLUE or unicodedata.category(char) in _PICTOGRAPH_CATEGORIES


def check_emoji(text: str, context: AgentContext, previous_text: str = "") -> Verdict:
    for char in _outside_gsm7(text):
        if _pictograph(char):
            name = unicodedata.name(char, f"U+{ord(char):04X}").lower()
            return _fail("emoji", f'The text contains an emoji or symbol ("{char}", {name}): use plain text only.')
    return _ok("emoji")


def _room(encoding: str) -> str:
    if encoding == "GSM-7":
        return "306 plain characters"
    return "134 characters while it has a character outside GSM-7, 306 without"


def check_segments(text: str, context: AgentContext, previous_text: str = "") -> Verdict:
    plain = _plain(text).strip()
    if not plain:
        return _fail("segments", "The text is empty.")
    counted = content.segments(plain)
    if counted.segments > MAX_SEGMENTS:
        return _fail(
            "segments",
            f"The text is {counted.segments} SMS segments ({counted.characters} {counted.encoding} characters); "
            f"shorten it to at most {MAX_SEGMENTS} segments ({_room(counted.encoding)}).",
        )
    return _ok("segments")


_TLDS = (
    "com|co|uk|org|net|io|info|biz|me|ly|app|dev|ai|gl|to|link|site|online|xyz|ie|eu|us|be|gd|cc|tv|page|shop|"
    "store|ltd|click|live|so|gg|ws|tk|top|club|website|bit|cal|energy|solar|email|digital|agency|services"
)
_URL = re.compile(
    r"(?<![\w@.-])(?:https?://|www\.)\S+"
    r"|(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:" + _TLDS + r")(?![\w-])(?:[/?#]\S*)?",
    re.IGNORECASE,
)
_URL_TAIL = ".,;:!?)]}'\""


def links_in(text: str) -> list[str]:
    """Every URL in the text, bare domains ("example.com/x") and "www." ones included; e-mail addresses
    are not links."""
    links = []
    for word in _plain(text).split():
        body = word.rstrip(_URL_TAIL)
        if "." in body or "://" in body:  # most words are not worth the regex
            links.extend(match.group(0).rstrip(_URL_TAIL) for match in _URL.finditer(word))
    return links


def check_links(text: str, context: AgentContext, previous_text: str = "") -> Verdict:
    allowed = (context.booking_link or "").strip()
    for link in links_in(text):
        if link == allowed:
            continue
        if allowed:
            detail = f'The text contains the link "{link}"; the only link allowed is the booking link {allowed}.'
        else:
            detail = f'The text contains the link "{link}"; this dataset has no booking link, so send no link.'
        return _fail("links", detail)
    return _ok("links")


def _comparable(text: str) -> str:
    return " ".join(_plain(text).casefold().split())


def _similarity(new: str, old: str) -> float:
    matcher = difflib.SequenceMatcher(None, new, old, autojunk=False)
    # The cheap upper bounds settle most pairs before the real ratio is computed.
    for ratio in (matcher.real_quick_ratio, matcher.quick_ratio, matcher.ratio):
        if (value := ratio()) < REPEAT_RATIO:
            return value
    return value


def check_repeat(text: str, context: AgentContext, previous_text: str = "") -> Verdict:
    new, old = _comparable(text), _comparable(previous_text)
    if not new or not old:
        return _ok("repeat")
    if new == old or _similarity(new, old) >= REPEAT_RATIO:
        return _fail("repeat", "The text repeats our previous message; say something new or hand to a person.")
    return _ok("repeat")


_ME = r"(?:i'm|i am|this is|it's|it is|you're (?:talking|speaking|chatting|texting) (?:to|with))"
_HUMAN_CLAIM = optout.any_of(
    rf"\b{_ME} (?:a |an )?(?:real|actual|live|genuine) (?:person|human|human being|people)\b",
    r"\b(?:i'm|i am) (?:a )?(?:human|person|human being|real)\b",
    r"\bnot (?:a |an )?(?:bot|robot|chatbot|ai|a\.i\.|machine|computer program|automated)(?!\w)",
    r"\b(?:this|it|i) (?:isn't|is not|am not|ain't) (?:a |an )?(?:bot|robot|chatbot|ai|machine|computer|automated)\b",
)
# The lead asks whether they are texting a machine.
_ASKS_IF_BOT = optout.any_of(
    r"\b(?:bot|robot|chatbot|ai|a\.i\.|automated)(?!\w)",
    r"\b(?:are you|is this|is it|is that) (?:a |an )?(?:computer|machine|program)\b",
    r"\b(?:real|actual|live) (?:person|human|people)\b",
    r"\b(?:are you|is this|is that|am i (?:talking|speaking|texting|chatting) (?:to|with)) (?:a )?"
    r"(?:human|person|human being|real|people)\b",
)
_SAYS_AUTOMATED = re.compile(r"\b(?:automated|assistant|ai|a\.i\.)(?!\w)", re.IGNORECASE)


def check_human_claim(text: str, context: AgentContext, previous_text: str = "") -> Verdict:
    said = optout.normalise(_plain(text))
    claim = _HUMAN_CLAIM.search(said)
    if claim:
        return _fail(
            "human_claim",
            f'The text claims to be a person ("{claim.group(0)}"); say you are an automated assistant.',
        )
    burst = optout.normalise(_plain(" ".join(context.new_texts)))
    if _ASKS_IF_BOT.search(burst) and not _SAYS_AUTOMATED.search(said):
        return _fail(
            "human_claim",
            "The lead asked whether this is automated and the text does not say so: "
            "say you are an automated assistant and offer a call with a person.",
        )
    return _ok("human_claim")


CHECKS = (
    check_blacklist,
    check_never_rules,
    check_price_promise,
    check_emoji,
    check_segments,
    check_links,
    check_repeat,
    check_human_claim,
)


def guardrails_check(text: str, *, context: AgentContext, previous_text: str = "") -> list[Verdict]:
    """Every check's verdict on `text`, in a fixed order. `previous_text` is our last outbound text."""
    return [check(text, context, previous_text) for check in CHECKS]


def first_failure(verdicts: list[Verdict]) -> Verdict | None:
    return next((verdict for verdict in verdicts if not verdict.passed), None)
