"""Demo data: the client Greenstar Solar with a believable, half-run reactivation campaign.

`demo_seed(now=...)` is idempotent: it creates what is missing (the client, its users, and
the tenant data as one transaction guarded by the main dataset's name) and leaves the rest.
The data follows DOMAIN.md: 200 old enquirers texted by a three-step cadence that staff
paused after about a week, delivery in the 80-90% range, 20% replying (a third to a half of
those negatively), 3-8% positive, 1-4% booked. Every phone number is in Ofcom's drama range
(07700 900000-900999). A fixed random seed makes it the same every time for the same `now`.
"""

import heapq
import random
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django_tenants.utils import schema_context

from campaigns.models import Conversation, Message
from clients.models import Client, User
from clients.services import client_create, client_domain_for, public_tenant_ensure
from leads import events
from leads.models import CampaignSettings, Dataset, Lead, LeadEvent, Suppression
from leads.services import dataset_create
from sophie.models import Insight, Lesson, Prompt, PromptTemplate, PromptVersion

SLUG = "greenstar"
COMPANY = "Greenstar Solar"
DATASET_NAME = "Solar enquiries 2023–2024"
OLD_DATASET_NAME = "Facebook leads 2022"
OWNER_EMAIL, OWNER_PASSWORD = "owner@greenstar.example", "greenstar-demo"
REP_EMAIL, REP_PASSWORD = "rep@greenstar.example", "greenstar-demo"
STAFF_EMAIL, STAFF_PASSWORD = "staff@dbr.example", "dbr-staff-demo"
CLIENT_NUMBER = "+447700900000"  # the client's Twilio sender, also from the drama range
BOOKING_LINK = "https://cal.com/greenstar/solar-chat"
SEED = 20231105
LEAD_COUNT = 200
LONDON = ZoneInfo("Europe/London")
QUIET_START, QUIET_END = time(21), time(8)

# --- People and places ---------------------------------------------------------------------

FIRST_NAMES = [
    "Sarah", "James", "Emma", "David", "Claire", "Paul", "Rachel", "Mark", "Helen", "Andrew", "Joanne",
    "Stephen", "Karen", "Richard", "Lisa", "Gary", "Nicola", "Ian", "Amanda", "Neil", "Rebecca", "Simon",
    "Louise", "Craig", "Gemma", "Darren", "Victoria", "Lee", "Samantha", "Martin", "Hannah", "Dean", "Laura",
    "Gareth", "Kirsty", "Graham", "Siobhan", "Alan", "Priya", "Imran", "Aisha", "Tariq", "Fiona", "Stuart",
    "Catherine", "Jonathan", "Rhiannon", "Owen", "Bethan", "Callum", "Megan", "Ruth", "Keith", "Deborah",
    "Shaun", "Natalie", "Wayne", "Jasmine", "Harpreet", "Rajesh", "Chloe", "Liam", "Sophie", "Connor",
    "Eleanor", "Brian", "Pauline", "Trevor", "Janet", "Kevin", "Angela", "Colin", "Margaret", "Derek",
]
LAST_NAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
    "Patel", "Khan", "Lewis", "Harrison", "Hughes", "Edwards", "Turner", "Hill", "Moore", "Cooper",
    "Ward", "Morris", "King", "Watson", "Baker", "Harris", "Kelly", "Allen", "Marshall", "Scott",
    "Atkinson", "Barker", "Hussain", "Ahmed", "Shaw", "Lloyd", "Ellis", "Mitchell", "Holmes", "Pearson",
    "Fletcher", "Sutcliffe", "Booth", "Whitaker", "Brook", "Firth", "Hirst", "Ackroyd", "O'Brien",
    "McDonald", "Fraser", "Begum", "Chapman", "Dixon", "Lambert", "Riley", "Murphy", "Bell", "Webster",
]
OUTWARD_CODES = [
    "LS6", "LS8", "LS16", "LS17", "LS25", "LS28", "LS29", "BD9", "BD10", "BD17", "BD22", "HG1", "HG2",
    "HG3", "YO10", "YO24", "YO31", "YO8", "WF1", "WF3", "WF10", "HX2", "HX3", "HD1", "HD7", "HD9", "S10",
    "S17", "S35", "DN4", "DN6",
]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
EMAIL_DOMAINS = ["example.com", "example.org", "example.net"]
SOURCES = ["Website form", "Website form", "Website form", "Phone", "Great Yorkshire Show stand", "Referral"]
NOTES = [
    "", "", "", "South-facing roof, 3-bed semi.", "Asked about batteries as well.",
    "Quoted 4 kW in 2023, went quiet.", "Has an EV, interested in a charger.", "Detached, large east/west roof.",
    "Wanted to wait until after the loft conversion.", "Worried about the look of panels on the front.",
    "Terraced house, small roof.", "Retired couple, home most days.", "Wanted a survey in the spring.",
    "Compared three quotes.", "Asked whether the roof needs work first.",
]

# --- What leads say, and what happens next (DOMAIN.md's reply-intent table) ------------------
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
CHECK_BACK_MONTHS = [3, 1, 4]  # the "later" scripts above, in order
LATER_STATUSES = [S.WARM, S.WARM, S.COLD]
UNDELIVERED = [
    ("30005", "Unknown destination handset", "Undelivered: unknown handset (30005)"),
    ("30003", "Unreachable destination handset", "Undelivered: handset unreachable (30003)"),
    ("30006", "Landline or unreachable carrier", "Undelivered: landline or unreachable carrier (30006)"),
]
# The rest of the 200: (group, count). "silent" leads get whatever the cadence reached.
OTHER_GROUPS = [("ready", 5), ("landline", 2), ("duplicate", 1), ("archived", 2), ("undelivered", 24)]


@dataclass
class DemoResult:
    client: Client
    created: dict = field(default_factory=dict)
    url: str = ""
    logins: list = field(default_factory=list)


def demo_seed(*, now: datetime) -> DemoResult:
    """Creates whatever of the Greenstar demo is missing; a second run creates nothing."""
    public_tenant_ensure()
    created: dict = {}
    result = DemoResult(client=_client_ensure(created), created=created)
    owner, rep = _users_ensure(result.client, created)
    with schema_context(SLUG):
        if not Dataset.objects.filter(name=DATASET_NAME).exists():
            with transaction.atomic():
                created.update(_tenant_data_create(client=result.client, owner=owner, rep=rep, now=now))
    result.url = _client_url()
    result.logins = [
        ("Client owner", OWNER_EMAIL, OWNER_PASSWORD),
        ("Sales rep", REP_EMAIL, REP_PASSWORD),
        ("Platform staff (public host /admin/)", STAFF_EMAIL, STAFF_PASSWORD),
    ]
    return result


def _client_url() -> str:
    port = f":{settings.DBR_PUBLIC_PORT}" if settings.DBR_PUBLIC_PORT else ":8000"
    return f"{settings.DBR_PUBLIC_SCHEME}://{client_domain_for(SLUG)}{port}/"


def _client_ensure(created: dict) -> Client:
    client = Client.objects.filter(slug=SLUG).first()
    if client is None:
        client = client_create(
            name=COMPANY, slug=SLUG, company_email="hello@greenstar.example", company_phone="+441134960123",
            company_website="https://greenstar.example", twilio_phone_number=CLIENT_NUMBER,
            industry=Client.Industry.SOLAR, plan=Client.Plan.PROFESSIONAL,
        )
        created["client"] = 1
    return client


def _users_ensure(client: Client, created: dict) -> tuple[User, User]:
    specs = [
        (OWNER_EMAIL, OWNER_PASSWORD, {"client": client, "role": User.Role.COMPANY_OWNER, "first_name": "Helen",
                                       "last_name": "Carter", "can_manage_users": True, "can_edit_lessons": True,
                                       "can_view_all_leads": True, "can_push_to_n8n": True}),
        (REP_EMAIL, REP_PASSWORD, {"client": client, "role": User.Role.SALES_REP, "first_name": "Tom",
                                   "last_name": "Ellis"}),
        (STAFF_EMAIL, STAFF_PASSWORD, {"client": None, "role": User.Role.ADMIN, "first_name": "Platform",
                                       "last_name": "Staff", "is_staff": True, "is_superuser": True}),
    ]
    users = []
    with schema_context("public"):
        for email, password, fields in specs:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email, password, **fields)
                created["users"] = created.get("users", 0) + 1
            users.append(user)
    return users[0], users[1]


# --- Time --------------------------------------------------------------------------------

def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LONDON)


def _send_slots(start: datetime, end: datetime, per_hour: int):
    """Every instant the cadence could send between start and end: weekdays 09:00-17:00 London."""
    step = timedelta(seconds=3600 // per_hour)
    day = start.astimezone(LONDON).date()
    while _at(day, 0) < end:
        if day.weekday() < 5:
            slot, close = _at(day, 9), _at(day, 17)
            while slot < close:
                if start <= slot < end:
                    yield slot
                slot += step
        day += timedelta(days=1)


def _outside_quiet_hours(moment: datetime, rng: random.Random) -> datetime:
    local = moment.astimezone(LONDON)
    if QUIET_END <= local.time() < QUIET_START:
        return moment
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return _at(day, 8) + timedelta(seconds=rng.randint(30, 900))


def _next_month(now: datetime, month: int) -> date:
    year = now.year if month > now.month else now.year + 1
    return date(year, month, 1)


def _call_slot(now: datetime, index: int) -> datetime:
    day, found = now.astimezone(LONDON).date(), 0
    while True:
        day += timedelta(days=1)
        if day.weekday() < 5:
            found += 1
            if found == index + 1:
                hour, minute = [(10, 0), (14, 30), (11, 30), (15, 0)][index % 4]
                return _at(day, hour, minute)


# --- Tenant data -------------------------------------------------------------------------

@dataclass
class Plan:
    """One lead's story before it is written."""

    lead: Lead
    group: str  # an Intent key, "silent", or one of OTHER_GROUPS
    variant: int = 0
    reply_step: int = 0
    sends: list = field(default_factory=list)  # (step, sent_at)
    undelivered: tuple | None = None


def _tenant_data_create(*, client: Client, owner: User, rep: User, now: datetime) -> dict:
    rng = random.Random(SEED)  # noqa: S311 - demo data, deterministic on purpose
    start = _at(now.astimezone(LONDON).date() - timedelta(days=now.astimezone(LONDON).weekday() + 14), 9)
    paused = start + timedelta(days=7, hours=2)  # Monday of the second week, 11:00: M3s half sent
    imported = start - timedelta(days=3) + timedelta(hours=1, minutes=20)  # the Friday before, 10:20

    numbers = [f"+447700900{n:03d}" for n in rng.sample(range(1, 1000), LEAD_COUNT + 7)]
    _, old_leads = _old_dataset_create(rng, owner, numbers[LEAD_COUNT:], imported)
    dataset = dataset_create(
        name=DATASET_NAME, uploaded_by=owner, source="Website enquiry form export",
        description="Everyone who asked about solar in 2023 and 2024 and did not go ahead.",
    )
    cs = dataset.campaign_settings
    cs.twilio_number, cs.cal_booking_link = CLIENT_NUMBER, BOOKING_LINK
    cs.save()

    plans = _plans(rng, dataset, numbers[:LEAD_COUNT], old_leads[0], now, imported)
    _simulate_cadence(rng, plans, start, paused, per_hour=min(cs.messages_per_hour or 60, 60))
    extra = _finish_leads(rng, plans, now, paused, rep)
    Lead.objects.bulk_create([p.lead for p in plans])
    Dataset.objects.filter(pk=dataset.pk).update(
        created_at=imported, campaign_status=Dataset.CampaignStatus.PAUSED, campaign_start_date=start,
        column_mapping={"First Name": "first_name", "Surname": "last_name", "Mobile": "phone_number",
                        "Email": "email", "Postcode": "postcode", "Enquiry Date": "inquiry_date",
                        "Notes": "notes", "Source": "custom.source"},
        campaign_paused_reason="Paused by Helen on Monday morning while the team calls the hot leads.",
    )
    counts = _messages_and_events(rng, client, cs, plans, owner, rep, imported, extra)
    sophie = _sophie_data(dataset, owner, plans, now, start)
    return {"datasets": 2, "leads": len(plans) + len(old_leads), **counts, **sophie}


def _person(rng: random.Random, used: set) -> tuple[str, str]:
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if (first, last) not in used:
            used.add((first, last))
            return first, last


def _email(rng: random.Random, first: str, last: str) -> str:
    last = last.replace("'", "").lower()
    local = rng.choice([f"{first.lower()}.{last}", f"{first.lower()}{last}", f"{first[0].lower()}{last}",
                        f"{first.lower()}.{last}{rng.randint(1, 99)}", f"{first.lower()}_{last}"])
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def _postcode(rng: random.Random) -> str:
    return f"{rng.choice(OUTWARD_CODES)} {rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"


def _lead(rng: random.Random, dataset: Dataset, phone: str, used: set, inquiry: date, created: datetime,
          row: int) -> Lead:
    first, last = _person(rng, used)
    return Lead(
        id=uuid.UUID(int=rng.getrandbits(128), version=4), dataset=dataset, first_name=first, last_name=last,
        phone_number=phone, email=_email(rng, first, last), postcode=_postcode(rng), inquiry_date=inquiry,
        notes=rng.choice(NOTES) or None, custom_fields={"source": rng.choice(SOURCES)}, created_at=created,
        row_number=row,
    )


def _inquiry_window(now: datetime) -> tuple[date, date]:
    """6-36 months before today, narrowed to 2023-2024 (the dataset's name) when that leaves any."""
    today = now.astimezone(LONDON).date()
    oldest, newest = today - timedelta(days=36 * 30), today - timedelta(days=6 * 31)
    narrow = max(oldest, date(2023, 1, 1)), min(newest, date(2024, 12, 31))
    return narrow if (narrow[1] - narrow[0]).days > 90 else (oldest, newest)


def _old_dataset_create(rng: random.Random, owner: User, numbers: list[str], imported: datetime):
    dataset = dataset_create(
        name=OLD_DATASET_NAME, uploaded_by=owner, source="Facebook lead ads export",
        description="Leads from the 2022 Facebook ads; not contacted yet.",
    )
    created = imported - timedelta(days=140)
    Dataset.objects.filter(pk=dataset.pk).update(created_at=created)
    used: set = set()
    leads = [
        _lead(rng, dataset, phone, used, date(2022, rng.randint(3, 10), rng.randint(1, 28)), created, row)
        for row, phone in enumerate(numbers, start=2)
    ]
    Lead.objects.bulk_create(leads)
    events.leads_imported([lead.pk for lead in leads], actor=owner)
    LeadEvent.objects.filter(lead__dataset=dataset).update(created_at=created)
    return dataset, leads


def _plans(rng: random.Random, dataset: Dataset, numbers: list[str], original: Lead, now: datetime,
           imported: datetime) -> list[Plan]:
    groups = [(i.key, i.count) for i in INTENTS] + OTHER_GROUPS
    labels = [key for key, count in groups for _ in range(count)]
    labels += ["silent"] * (LEAD_COUNT - len(labels))
    rng.shuffle(labels)
    oldest, newest = _inquiry_window(now)
    used: set = set()
    plans, seen = [], Counter()
    for row, (label, phone) in enumerate(zip(labels, numbers, strict=True), start=2):
        inquiry = oldest + timedelta(days=rng.randint(0, (newest - oldest).days))
        lead = _lead(rng, dataset, phone, used, inquiry, imported, row)
        plan = Plan(lead=lead, group=label, variant=seen[label])
        seen[label] += 1
        if label == "duplicate":
            lead.first_name, lead.last_name, lead.email = original.first_name, original.last_name, original.email
            lead.phone_number, lead.is_duplicate, lead.duplicate_of = original.phone_number, True, original
        elif label == "landline":
            lead.sms_capable, lead.sms_capable_reason = False, "Landline (not a mobile)"
        elif label == "undelivered":
            plan.undelivered = UNDELIVERED[plan.variant % len(UNDELIVERED)]
        elif label in INTENT_BY_KEY:
            plan.reply_step = rng.choices([1, 2, 3], weights=[60, 25, 15])[0]
            if INTENT_BY_KEY[label].scripts[plan.variant][0][1] == "YES":
                plan.reply_step = 3  # "reply YES and I'll book a quick call" is M3's line
        plans.append(plan)
    return plans


INTENT_BY_KEY = {intent.key: intent for intent in INTENTS}
MESSAGED = set(INTENT_BY_KEY) | {"silent", "undelivered"}


def _simulate_cadence(rng: random.Random, plans: list[Plan], start: datetime, paused: datetime, *,
                      per_hour: int) -> None:
    """Runs the cadence as the tick would: M1 due at the start, M2 48 h after M1, M3 72 h after M2,
    each waiting for the weekday window, earliest due first, at most `per_hour` sends an hour."""
    queue = [(start, index, 1) for index, plan in enumerate(plans) if plan.group in MESSAGED]
    heapq.heapify(queue)
    delays = {1: timedelta(hours=48), 2: timedelta(hours=72)}
    for slot in _send_slots(start, paused, per_hour):
        if not queue or queue[0][0] > slot:
            continue
        _, index, step = heapq.heappop(queue)
        plan = plans[index]
        sent = slot + timedelta(seconds=rng.randint(0, 50))
        plan.sends.append((step, sent))
        if plan.undelivered or step == plan.reply_step or step == 3:
            continue
        heapq.heappush(queue, (sent + delays[step], index, step + 1))
    for plan in plans:
        if plan.reply_step:  # a reply planned after a step the pause never reached comes after the last one
            plan.reply_step = min(plan.reply_step, len(plan.sends))


@dataclass
class Turn:
    kind: str  # in / ai / auto / M1 / M2 / M3
    text: str
    at: datetime
    status: str = Message.Status.DELIVERED
    error: tuple | None = None


def _render(text: str, values: dict) -> str:
    return re.sub(r"\{([a-z_.]+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text)


def _values(lead: Lead, company: str, cs: CampaignSettings, extra: dict) -> dict:
    return {
        "first_name": lead.first_name or "there", "last_name": lead.last_name or "", "company_name": company,
        "agent_name": cs.agent_name, "booking_link": cs.cal_booking_link or "", "postcode": lead.postcode or "",
        "enquiry_month": lead.inquiry_date.strftime("%B %Y") if lead.inquiry_date else "",
        **{f"custom.{k}": v for k, v in lead.custom_fields.items()}, **extra,
    }


def _finish_leads(rng: random.Random, plans: list[Plan], now: datetime, paused: datetime, rep: User) -> dict:
    """Sets each lead's denormalised fields from its story; returns per-lead extras for the thread."""
    extras, booked, later = {}, 0, 0
    for plan in plans:
        lead, intent = plan.lead, INTENT_BY_KEY.get(plan.group)
        for step, sent in plan.sends:
            setattr(lead, f"m{step}_sent_at", sent)
        if plan.sends:
            lead.contact_status = f"CONTACTED_{len(plan.sends)}"
        extra: dict = {}
        if plan.group == "ready":
            lead.created_at = paused + timedelta(days=1, hours=2)
            lead.notes = "Added by hand from the 2023 phone-enquiry book."
            lead.next_step, lead.due_at = Lead.Step.M1, lead.created_at
        elif plan.group == "archived":
            lead.contact_status, lead.archived = S.ARCHIVED, True
            lead.archived_at = lead.created_at + timedelta(days=1, hours=3)
            lead.notes = "Rang in to say they had panels fitted by another installer."
        elif plan.group == "undelivered":
            lead.sms_capable, lead.sms_capable_reason = False, plan.undelivered[2]
        elif plan.group == "silent" and len(plan.sends) < 3:
            step, sent = plan.sends[-1]
            lead.next_step = f"M{step + 1}"
            lead.due_at = sent + timedelta(hours=48 if step == 1 else 72)
        elif intent:
            lead.contact_status = intent.status or lead.contact_status
            lead.lead_sentiment = intent.sentiment
            lead.conversation_summary = intent.summary
            if intent.key == "later":
                month = _next_month(now, CHECK_BACK_MONTHS[later % 3])
                lead.contact_status = LATER_STATUSES[later % 3]
                lead.conversation_summary = intent.summary.format(check_back=month.strftime("%B %Y"))
                extra["check_back"] = month
                later += 1
            if intent.booked:
                slot = _call_slot(now, booked)
                booked += 1
                uid = "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                              for _ in range(22))
                lead.call_booked, lead.call_booked_time, lead.cal_booking_id = True, slot, uid
                lead.cal_booking_url = f"https://cal.com/booking/{uid}"
                extra["call_day"] = slot.strftime("%A %-d %B at %H:%M")
            if intent.hand_over or intent.booked or intent.key == "interested":
                lead.assigned_to = rep
            if intent.hand_over:
                lead.manual_mode = True
        extras[lead.pk] = extra
    return extras


def _thread(rng: random.Random, plan: Plan, values: dict, cs: CampaignSettings) -> list[Turn]:
    templates = {1: cs.m1_message, 2: cs.m2_message, 3: cs.m3_message}
    turns = []
    for step, sent in plan.sends:
        status = rng.choices([Message.Status.DELIVERED, Message.Status.SENT], weights=[95, 5])[0]
        turn = Turn(f"M{step}", _render(templates[step], values), sent, status)
        if plan.undelivered:
            turn.status, turn.error = Message.Status.UNDELIVERED, plan.undelivered
        turns.append(turn)
    intent = INTENT_BY_KEY.get(plan.group)
    if not intent:
        return turns
    script = intent.scripts[plan.variant % len(intent.scripts)]
    moment = plan.sends[plan.reply_step - 1][1]
    for index, (kind, text) in enumerate(script):
        if kind == "in":
            wait = rng.randint(3, 240) if index == 0 else rng.randint(2, 90)
            moment = moment + timedelta(minutes=wait)
            turns.append(Turn("in", _render(text, values), moment, Message.Status.RECEIVED))
        else:
            moment = _outside_quiet_hours(moment + timedelta(seconds=60 + rng.randint(0, 300)), rng)
            turns.append(Turn(kind, _render(text, values), moment, Message.Status.DELIVERED))
    return turns


def _sid(rng: random.Random) -> str:
    return f"SM{rng.getrandbits(128):032x}"


def _messages_and_events(rng: random.Random, client: Client, cs: CampaignSettings, plans: list[Plan], owner: User,
                         rep: User, imported: datetime, extras: dict) -> dict:
    conversations, messages, timed_events, suppressions = [], [], [], []
    events.leads_imported([p.lead.pk for p in plans if p.group != "ready"], actor=owner)
    LeadEvent.objects.filter(lead__dataset=cs.datasets.get()).update(created_at=imported)
    for plan in plans:
        lead = plan.lead
        if plan.group == "ready":
            timed_events.append((events.lead_imported(lead, actor=owner), lead.created_at))
        if plan.group == "archived":
            timed_events.append((events.lead_archived(lead, reason=lead.notes, actor=owner), lead.archived_at))
        if not plan.sends:
            continue
        turns = _thread(rng, plan, _values(lead, client.company_name, cs, extras[lead.pk]), cs)
        conversation = Conversation(id=uuid.UUID(int=rng.getrandbits(128), version=4), lead=lead,
                                    dataset=lead.dataset)
        conversations.append(conversation)
        for turn in turns:
            messages.append(_message(rng, conversation, lead, turn))
        inbound = [t for t in turns if t.kind == "in"]
        lead.total_messages, lead.last_message_at = len(turns), turns[-1].at
        if inbound:
            lead.reply_received_at, lead.latest_lead_reply = inbound[-1].at, inbound[-1].text
        conversation.started_at, conversation.last_message_at = turns[0].at, turns[-1].at
        conversation.message_count = len(turns)
        conversation.sentiment = lead.lead_sentiment
        intent = INTENT_BY_KEY.get(plan.group)
        if intent:
            conversation.needs_review = intent.needs_review
            if lead.contact_status in (S.REMOVED, S.COLD):
                conversation.status = Conversation.Status.COMPLETED
        timed_events += _lead_events(plan, intent, messages[-len(turns):], rep, extras[lead.pk])
        if intent and intent.suppress:
            suppressions.append(Suppression(
                phone_number=lead.phone_number, source=intent.suppress, created_at=inbound[0].at,
                reason={"opt_out": "Replied: " + inbound[0].text, "wrong_number": "Wrong number"}[intent.suppress],
            ))
    Conversation.objects.bulk_create(conversations)
    Conversation.objects.bulk_update(conversations, ["started_at", "last_message_at"])
    Message.objects.bulk_create(messages, batch_size=1000)
    Lead.objects.bulk_update([p.lead for p in plans if p.sends], [
        "total_messages", "last_message_at", "reply_received_at", "latest_lead_reply", "manual_mode_activated_at",
    ])
    Suppression.objects.bulk_create(suppressions)
    for event, at in timed_events:
        event.created_at = at
    LeadEvent.objects.bulk_update([e for e, _ in timed_events], ["created_at"], batch_size=500)
    return {"conversations": len(conversations), "messages": len(messages), "suppressions": len(suppressions),
            "lead_events": LeadEvent.objects.count()}


def _message(rng: random.Random, conversation: Conversation, lead: Lead, turn: Turn) -> Message:
    inbound = turn.kind == "in"
    message = Message(
        conversation=conversation, lead=lead, content=turn.text,
        direction=Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
        message_type=None if inbound else (turn.kind if turn.kind.startswith("M") else Message.Type.REPLY),
        from_number=lead.phone_number if inbound else CLIENT_NUMBER,
        to_number=CLIENT_NUMBER if inbound else lead.phone_number,
        status=turn.status, twilio_sid=_sid(rng), twilio_status=turn.status, sent_at=turn.at,
        created_at=turn.at if inbound else turn.at - timedelta(seconds=rng.randint(1, 4)),
        ai_generated=turn.kind == "ai",
    )
    if turn.status == Message.Status.DELIVERED:
        message.delivered_at = turn.at + timedelta(seconds=rng.randint(3, 25))
    if turn.error:
        message.error_code, message.error_message = turn.error[0], turn.error[1]
    if turn.kind == "ai":
        message.ai_quality_score = rng.choice(["0.85", "0.90", "0.92", "0.95"])
    return message


def _lead_events(plan: Plan, intent: Intent | None, messages: list[Message], rep: User, extra: dict) -> list:
    lead, out = plan.lead, []
    for message in messages:
        if message.direction == Message.Direction.INBOUND:
            out.append((events.lead_replied(lead, message_id=message.pk, text=message.content), message.sent_at))
            continue
        step = message.message_type if message.message_type != Message.Type.REPLY else None
        out.append((events.message_sent(lead, message_id=message.pk, step=step, sid=message.twilio_sid),
                    message.sent_at))
        if message.delivered_at:
            out.append((events.message_delivered(lead, message_id=message.pk, sid=message.twilio_sid),
                        message.delivered_at))
        elif message.error_code:
            out.append((events.message_failed(lead, message_id=message.pk, error_code=message.error_code,
                                              reason=message.error_message), message.sent_at + timedelta(seconds=20)))
    if not intent:
        return out
    first_reply = next(m for m in messages if m.direction == Message.Direction.INBOUND).sent_at
    after = first_reply + timedelta(seconds=30)
    if intent.status and lead.contact_status != f"CONTACTED_{len(plan.sends)}":
        old = f"CONTACTED_{len(plan.sends)}"
        new = S.HOT if intent.booked else lead.contact_status
        reason = "interested" if intent.booked else intent.key.replace("_", " ")
        out.append((events.status_changed(lead, old=old, new=new, reason=f"Reply: {reason}"), after))
    if intent.suppress:
        out.append((events.number_suppressed(lead, source=intent.suppress, reason=intent.summary), after))
    if lead.assigned_to_id:
        out.append((events.lead_assigned(lead, assignee=rep), after + timedelta(seconds=5)))
    if lead.manual_mode:
        lead.manual_mode_activated_at = after + timedelta(seconds=5)
        out.append((events.manual_mode_changed(lead, enabled=True), lead.manual_mode_activated_at))
    if intent.booked:
        link = next(m for m in messages if BOOKING_LINK in m.content)
        booked_at = link.sent_at + timedelta(minutes=1)
        out.append((events.call_booked(lead, booking_id=lead.cal_booking_id,
                                       start=lead.call_booked_time.isoformat()), booked_at))
        out.append((events.status_changed(lead, old=S.HOT, new=S.CALL_BOOKED, reason="Cal.com booking"), booked_at))
    if "check_back" in extra:
        out.append((events.note_added(lead, text=f"Check back in {extra['check_back']:%B %Y}."), after))
    return out


# --- Sophie: the live prompt, lessons taught by the owner, insights ------------------------

COMPANY_KNOWLEDGE = (
    "About {company_name}: a Leeds installer of solar panels, batteries and EV chargers across Yorkshire since "
    "2014; MCS certified. Surveys are in person and carry no obligation."
)


SECTION_ORDER = ["context", "goal", "tone", "knowledge", "objections", "boundaries"]


def _compile(structure: dict) -> str:
    # jsonb does not keep key order, so the sections are joined in the seed's order.
    names = [n for n in SECTION_ORDER if n in structure] + [n for n in structure if n not in SECTION_ORDER]
    return "\n\n".join(f"## {name.title()}\n{structure[name]['content']}" for name in names)


def _sophie_data(dataset: Dataset, owner: User, plans: list[Plan], now: datetime, start: datetime) -> dict:
    template = PromptTemplate.objects.get(category=PromptTemplate.Category.SOLAR_DBR_OLD, is_system_template=True)
    structure = {name: dict(section) for name, section in template.template_structure.items()}
    structure["knowledge"]["content"] += "\n" + COMPANY_KNOWLEDGE
    lessons = _lessons_create(owner)
    deployed = start - timedelta(days=1, hours=-5)
    prompt = Prompt.objects.create(
        name="Greenstar old-database prompt", description="From the old-database template, with what we sell.",
        prompt_structure=structure, compiled_prompt=_compile(structure),
        created_from=Prompt.CreatedFrom.TEMPLATE, template=template,
        wizard_answers={**(template.default_wizard_answers or {}), "company_name": COMPANY, "agent_name": "Sophie",
                        "booking_link": BOOKING_LINK, "products": ["solar panels", "batteries", "EV chargers"]},
        applied_lessons=[lesson.pk for lesson in Lesson.objects.filter(status=Lesson.Status.ACTIVE)],
        lessons_count=Lesson.objects.filter(status=Lesson.Status.ACTIVE).count(),
        version="1.0", version_number=1, status=Prompt.Status.LIVE, is_live=True, deployed_at=deployed,
        deployed_by=owner, changes_summary="First version, from the system template.",
        conversations_count=sum(1 for p in plans if p.sends),
    )
    PromptTemplate.objects.filter(pk=template.pk).update(times_used=template.times_used + 1)
    PromptVersion.objects.create(
        prompt=prompt, version="1.0", version_number=1, created_by=owner,
        created_by_type=PromptVersion.CreatedByType.USER, created_at=deployed,
        changes={"type": "created_from_template", "template_id": str(template.pk),
                 "template_category": template.category, "sections_changed": ["knowledge"],
                 "after": {"knowledge": COMPANY_KNOWLEDGE}},
        changes_summary="Created from 'Solar reactivation - old database'; added what Greenstar sells.",
    )
    Prompt.objects.filter(pk=prompt.pk).update(created_at=deployed)
    insights = _insights_create(dataset, plans, lessons["price"], now)
    return {"prompts": 1, "lessons": len(lessons), "insights": insights}


def _lessons_create(owner: User) -> dict[str, Lesson]:
    common = {"source": Lesson.Source.USER_TAUGHT, "created_by": owner, "status": Lesson.Status.ACTIVE}
    specs = {
        "price": dict(
            lesson_type=Lesson.Type.OBJECTION_HANDLING, title="Price question in the first reply",
            description="When someone asks how much, give the honest range and offer a call; never a quote by text.",
            trigger="Lead asks how much, a ballpark, or what sort of money",
            correct_response=PRICE_ANSWER,
            incorrect_response="Our systems start from 4,999 and save up to 70% on your bills!",
            reasoning="Price depends on roof and usage; 'up to' savings claims are banned. A call converts better.",
            tags=["price", "objection"], priority=50, times_applied=3,
        ),
        "partner": dict(
            lesson_type=Lesson.Type.OBJECTION_HANDLING, title="Needs to talk to their partner",
            description="Respect it and offer a call when both are in, without chasing.",
            trigger="I need to talk to my husband / wife / partner first",
            correct_response="Of course. Would a call when you're both home suit better? Evenings are fine.",
            incorrect_response="It only takes a minute, you can decide on your own.",
            reasoning="Big household decisions are shared; pushing loses the lead.",
            tags=["objection", "partner"], priority=40,
        ),
        "who": dict(
            lesson_type=Lesson.Type.EXAMPLE_GOOD, title="Answering 'who is this?'",
            description="Company, the original enquiry and the opt-out, no link.",
            trigger="Who is this? / Is this a scam?",
            correct_response="It's Sophie at Greenstar Solar. You asked us about solar panels in May 2023. "
                             "Reply STOP if you'd rather not hear from us.",
            reasoning="Reminding them of their own enquiry answers the scam worry; a link would feed it.",
            example_conversation=[{"role": "lead", "text": "Who is this?"},
                                  {"role": "sophie", "text": "It's Sophie at Greenstar Solar. You asked us about "
                                   "solar panels in May 2023. Reply STOP if you'd rather not hear from us."}],
            tags=["trust", "example"], priority=40,
        ),
        "pushy": dict(
            lesson_type=Lesson.Type.EXAMPLE_BAD, title="Chasing after a no",
            description="A no gets one line closing the file, nothing else.",
            trigger="No thanks / not interested",
            correct_response="Understood, I'll close your file.",
            incorrect_response="Are you sure? Prices are going up in the new year.",
            reasoning="Fake urgency and chasing after a no break the never-rules and annoy people.",
            tags=["decline", "example"], priority=40,
        ),
    }
    return {key: Lesson.objects.create(**common, **spec) for key, spec in specs.items()}


def _insights_create(dataset: Dataset, plans: list[Plan], price_lesson: Lesson, now: datetime) -> int:
    total = len(plans)
    messaged = [p for p in plans if p.sends]
    delivered = [p for p in messaged if not p.undelivered]
    replied = [p for p in plans if p.group in INTENT_BY_KEY]
    negative = [p for p in replied if p.lead.lead_sentiment == C.NEGATIVE]
    positive = [p for p in replied if p.lead.lead_sentiment in (C.POSITIVE, C.HOT)]
    booked = [p for p in replied if p.lead.call_booked]

    def pct(part, whole) -> str:
        return f"{100 * len(part) / len(whole):.0f}%"

    Insight.objects.create(
        insight_type=Insight.Type.CAMPAIGN, dataset=dataset, severity=Insight.Severity.INFO,
        category=Insight.Category.SUCCESS_PATTERN, affected_leads_count=total,
        title=f"Reply rate {pct(replied, plans)}: inside the normal range for an old list",
        description=(
            f"{len(delivered)} of {len(messaged)} texted numbers took delivery ({pct(delivered, messaged)}; normal "
            f"80-90% on an old list). {len(replied)} of {total} leads replied ({pct(replied, plans)}; normal 10-25%), "
            f"{len(negative)} of them negatively ({pct(negative, replied)}; normal a third to a half). "
            f"{len(positive)} positive ({pct(positive, plans)} of leads; normal 3-8%) and {len(booked)} calls booked "
            f"({pct(booked, plans)}; normal 1-4%). Ranges are vendor claims; no independent UK data exists."
        ),
        suggestion="Nothing to fix. Resume the campaign once the hot leads have been called.",
    )
    price = [p for p in replied if p.group == "price"]
    Insight.objects.create(
        insight_type=Insight.Type.PATTERN, dataset=dataset, severity=Insight.Severity.SUGGESTION,
        category=Insight.Category.OBJECTION, affected_leads_count=len(price), related_lesson=price_lesson,
        title=f"{len(price)} leads asked about price in their first reply",
        description="Each got the honest range and an offer of a call; none has booked yet.",
        suggestion="Offer two call times in the price answer instead of asking whether a call would help.",
        original_text=PRICE_ANSWER,
        suggested_text="It depends on your roof and usage; a typical 3-4 kW system is around £7,000. "
                       "Could the team ring you Tuesday or Thursday evening to go through it?",
    )
    hostile = next(p for p in replied if p.group == "hostile")
    Insight.objects.create(
        insight_type=Insight.Type.CONVERSATION, dataset=dataset, severity=Insight.Severity.WARNING,
        category=Insight.Category.TONE, conversation_id=hostile.lead.conversation.pk,
        title="An angry reply to M1 was handed to you",
        description=f"{hostile.lead.full_name} called the text harassment. Sophie apologised, explained where the "
                    "number came from and removed it; the number is suppressed.",
        suggestion="Check the lead's source before the next campaign on this list.",
    )
    return Insight.objects.count()
