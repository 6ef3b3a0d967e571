"""Believable Yorkshire leads: names, e-mails, postcodes, notes and enquiry dates."""

import random
import uuid
from datetime import date, datetime, timedelta

from devtools.demo.greenstar import LONDON
from leads.models import Dataset, Lead

# Data tables, kept a row per line rather than an item per line.
# fmt: off
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
# fmt: on


def _person(rng: random.Random, used: set) -> tuple[str, str]:
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if (first, last) not in used:
            used.add((first, last))
            return first, last


def _email(rng: random.Random, first: str, last: str) -> str:
    last = last.replace("'", "").lower()
    local = rng.choice(
        [
            f"{first.lower()}.{last}",
            f"{first.lower()}{last}",
            f"{first[0].lower()}{last}",
            f"{first.lower()}.{last}{rng.randint(1, 99)}",
            f"{first.lower()}_{last}",
        ]
    )
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def _postcode(rng: random.Random) -> str:
    return f"{rng.choice(OUTWARD_CODES)} {rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"


def lead_new(
    rng: random.Random, dataset: Dataset, phone: str, used: set, inquiry: date, created: datetime, row: int
) -> Lead:
    first, last = _person(rng, used)
    return Lead(
        id=uuid.UUID(int=rng.getrandbits(128), version=4),
        dataset=dataset,
        first_name=first,
        last_name=last,
        phone_number=phone,
        email=_email(rng, first, last),
        postcode=_postcode(rng),
        inquiry_date=inquiry,
        notes=rng.choice(NOTES) or None,
        custom_fields={"source": rng.choice(SOURCES)},
        created_at=created,
        row_number=row,
    )


def inquiry_window(now: datetime) -> tuple[date, date]:
    """6-36 months before today, narrowed to 2023-2024 (the dataset's name) when that leaves any."""
    today = now.astimezone(LONDON).date()
    oldest, newest = today - timedelta(days=36 * 30), today - timedelta(days=6 * 31)
    narrow = max(oldest, date(2023, 1, 1)), min(newest, date(2024, 12, 31))
    return narrow if (narrow[1] - narrow[0]).days > 90 else (oldest, newest)
