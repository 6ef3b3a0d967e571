"""What leads say and what happens next: one Intent per kind of reply, with its scripted threads.

The intents and their counts follow the usual shape of replies to a reactivation text: most say
nothing, a few opt out or decline, a handful are interested and a few of those book a call.
"""

from dataclasses import dataclass

from leads.models import Lead, Suppression

# Turns: ("in", text) from the lead; ("ai", text) from Sophie; ("auto", text) a fixed confirmation.

PRICE_ANSWER = (
    "Honestly it depends on your roof and how much power you use. A typical 3-4 kW system is around "
    "£7,000. Would a quick call to look at your bills help?"
)
OWN_HOME = "Great, {first_name}. Quick one first: do you own the house?"
LINK = "Thanks. You can pick a time for a 15-minute call with the team here: {booking_link}"
CLOSE = "Understood, I'll close your file. Thanks {first_name}."


@dataclass(frozen=True)
class Intent:
    key: str
    count: int
    status: str
    sentiment: str | None
    summary: str
    scripts: list
    suppress: str | None = None  # Suppression source
    hand_over: bool = False  # a person takes it: assigned to the rep, manual mode
    needs_review: bool = False
    booked: bool = False


S, C = Lead.ContactStatus, Lead.Sentiment
# Data tables, kept a row per line rather than an item per line.
# fmt: off
INTENTS = [
    Intent("opt_out", 5, S.REMOVED, C.NEGATIVE, "Opted out.", [
        [("in", "STOP")],
        [("in", "Please take me off your list"), ("auto", "Done. You won't get any more texts from {company_name}.")],
        [("in", "Stop")],
        [("in", "UNSUBSCRIBE")],
        [("in", "Don't text me again"), ("auto", "Understood, you won't hear from {company_name} again.")],
    ], suppress=Suppression.Source.OPT_OUT),
    Intent("hostile", 1, S.REMOVED, C.NEGATIVE, "Angry about being texted; removed and passed to the owner.", [
        [("in", "How did you get this number? This is harassment, I'll report you"),
         ("ai", "Sorry, {first_name}. We had your number from your solar enquiry to {company_name} in "
                "{enquiry_month}. I've removed it and you won't hear from us again.")],
    ], suppress=Suppression.Source.OPT_OUT, needs_review=True),
    Intent("wrong_number", 2, S.REMOVED, C.NEGATIVE, "Wrong number; number suppressed.", [
        [("in", "Wrong number, no {first_name} here"),
         ("ai", "Sorry for the trouble. I've removed this number and you won't hear from us again.")],
        [("in", "{first_name} passed away in the summer."),
         ("ai", "I'm very sorry for your loss, and for the message. I've removed this number.")],
    ], suppress=Suppression.Source.WRONG_NUMBER),
    Intent("decline", 7, S.COLD, C.NEGATIVE, "Not interested; file closed.", [
        [("in", "No thanks"), ("ai", "Understood, I'll close your file.")],
        [("in", "Not interested thanks"), ("ai", CLOSE)],
        [("in", "No longer interested"), ("ai", "Understood, I'll close your file.")],
        [("in", "No ta"), ("ai", CLOSE)],
        [("in", "We decided against it in the end, thanks"), ("ai", CLOSE)],
        [("in", "Not for us thanks"), ("ai", "Understood, I'll close your file.")],
        [("in", "Not interested"), ("ai", "Understood, I'll close your file.")],
    ]),
    Intent("already_has", 1, S.COLD, C.NEGATIVE, "Had panels fitted elsewhere; no battery wanted.", [
        [("in", "Got panels fitted last year thanks"), ("ai", "Good to hear. Did you get a battery with them?"),
         ("in", "No, not bothered about one"), ("ai", "No problem, I'll close your file. Thanks {first_name}.")],
    ]),
    Intent("not_eligible", 1, S.COLD, C.NEGATIVE, "Moved house; file closed.", [
        [("in", "We've moved house since, sorry"),
         ("ai", "Thanks for letting me know, {first_name}. I'll close your file.")],
    ]),
    Intent("interested", 5, S.HOT, C.POSITIVE, "Still interested; owns the home; booking link sent.", [
        [("in", "Yes still interested, what's next?"), ("ai", OWN_HOME), ("in", "Yes we do"), ("ai", LINK)],
        [("in", "Go on then"), ("ai", "Great. So I send the right person, do you own your home, {first_name}?")],
        [("in", "Yes please, been meaning to get back to you"), ("ai", OWN_HOME), ("in", "Yes, 3 bed semi"),
         ("ai", LINK)],
        [("in", "YES"), ("ai", OWN_HOME), ("in", "Yep"), ("ai", LINK)],
        [("in", "Could be, we've just bought an electric car"),
         ("ai", "Good timing then. Do you own the house, {first_name}?"), ("in", "Yes"), ("ai", LINK)],
    ]),
    Intent("wants_call", 2, S.HOT, C.HOT, "Asked for a call; passed to Tom.", [
        [("in", "Can you call me after 5?"),
         ("ai", "Will do, {first_name}. I've asked one of the team to ring you after 5 on this number.")],
        [("in", "Ring me tomorrow morning please, I'm at work"),
         ("ai", "No problem. Someone from the team will ring you tomorrow morning.")],
    ], hand_over=True),
    Intent("call_booked", 4, S.CALL_BOOKED, C.HOT, "Call booked.", [
        [("in", "Yes please"), ("ai", OWN_HOME), ("in", "Yes"), ("ai", LINK), ("in", "Done, booked"),
         ("ai", "Thanks {first_name}, you're booked in for {call_day}. Speak then.")],
        [("in", "Still interested yes"), ("ai", OWN_HOME), ("in", "yes"), ("ai", LINK)],
        [("in", "Yes, send me some times"), ("ai", "Great. Do you own the property, {first_name}?"),
         ("in", "We do"), ("ai", LINK)],
        [("in", "YES"), ("ai", OWN_HOME), ("in", "Yes we own it"), ("ai", LINK)],
    ], booked=True),
    Intent("price", 3, S.WARM, C.NEUTRAL, "Asked about price; offered a call.", [
        [("in", "How much roughly?"), ("ai", PRICE_ANSWER)],
        [("in", "Ballpark price?"), ("ai", PRICE_ANSWER), ("in", "Maybe, let me talk to my husband")],
        [("in", "What sort of money are we talking?"), ("ai", PRICE_ANSWER)],
    ]),
    Intent("product", 1, S.WARM, C.NEUTRAL, "Asked about batteries; offered a call.", [
        [("in", "Do you do batteries as well?"),
         ("ai", "Yes, {company_name} fits batteries as well as panels. Would a quick call to talk it through help?")],
    ]),
    Intent("grant", 1, S.WARM, C.NEUTRAL, "Asked about grants; passed to a person.", [
        [("in", "Is there a grant for this? Saw something about free panels"),
         ("ai", "Grant rules change and depend on the household, so I won't guess by text. "
                "Can one of the team check what applies to you?"), ("in", "Ok yes please")],
    ], hand_over=True, needs_review=True),
    Intent("who", 2, S.WARM, C.NEUTRAL, "Asked who we are; reminded of the enquiry.", [
        [("in", "Who is this?"),
         ("ai", "It's {agent_name} at {company_name}. You asked us about solar panels in {enquiry_month}. "
                "Reply STOP if you'd rather not hear from us.")],
        [("in", "Is this a scam? How did you get my number"),
         ("ai", "Not a scam: it's {agent_name} at {company_name}. You gave us this number when you asked about "
                "solar in {enquiry_month}. Reply STOP and I won't text again.")],
    ]),
    Intent("later", 3, S.WARM, C.NEUTRAL, "Not now; check back in {check_back}.", [
        [("in", "Not now, maybe in the spring"), ("ai", "No problem, {first_name}. OK if I check back in March?"),
         ("in", "Yes that's fine")],
        [("in", "After Christmas maybe"), ("ai", "Of course. OK if I check back in January?"), ("in", "Ok")],
        [("in", "Not this year, we're having the roof done first"),
         ("ai", "Makes sense. OK if I check back in April?")],
    ]),
    Intent("ambiguous", 2, "", C.UNCLEAR, "Unclear reply.", [
        [("in", "ok"), ("ai", "Thanks {first_name}. Just to check, is solar still on your list?")],
        [("in", "I'm driving right now, I'll get back to you later.")],
    ]),
]
# fmt: on
CHECK_BACK_MONTHS = [3, 1, 4]  # the "later" scripts above, in order
LATER_STATUSES = [S.WARM, S.WARM, S.COLD]
UNDELIVERED = [
    ("30005", "Unknown destination handset", "Undelivered: unknown handset (30005)"),
    ("30003", "Unreachable destination handset", "Undelivered: handset unreachable (30003)"),
    ("30006", "Landline or unreachable carrier", "Undelivered: landline or unreachable carrier (30006)"),
]
# The rest of the 200: (group, count). "silent" leads get whatever the cadence reached.
OTHER_GROUPS = [("ready", 5), ("landline", 2), ("duplicate", 1), ("archived", 2), ("undelivered", 24)]

INTENT_BY_KEY = {intent.key: intent for intent in INTENTS}
MESSAGED = set(INTENT_BY_KEY) | {"silent", "undelivered"}
