"""Demo data: the client Greenstar Solar with a believable, half-run reactivation campaign.

`demo_seed(now=...)` is idempotent: it creates what is missing (the client, its users, and
the tenant data as one transaction guarded by the main dataset's name) and leaves the rest.
The numbers follow what vendors report for reactivation of an old list: 200 old
enquirers texted by a three-step cadence that staff paused after about a week, delivery in the
80-90% range, 20% replying (a third to a half of those negatively), 3-8% positive, 1-4% booked.
Every phone number is in Ofcom's drama range (07700 900000-900999). A fixed random seed makes
it the same every time for the same `now`.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django_tenants.utils import schema_context

from clients.models import Client, User
from clients.numbers import sending_number_add
from clients.services import client_create, client_domain_for, public_tenant_ensure
from devtools.demo.greenstar import (
    BOOKING_LINK,
    CLIENT_NUMBER,
    COMPANY,
    DATASET_NAME,
    LEAD_COUNT,
    LONDON,
    OWNER_EMAIL,
    OWNER_PASSWORD,
    REP_EMAIL,
    REP_PASSWORD,
    SEED,
    SLUG,
    STAFF_EMAIL,
    STAFF_PASSWORD,
)
from devtools.demo.plans import cadence_simulate, leads_finish, old_dataset_create, plans_new
from devtools.demo.sophie_data import sophie_data_create
from devtools.demo.threads import threads_create
from devtools.demo.timing import london_at
from leads.models import Dataset, Lead
from leads.services import dataset_create


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
            name=COMPANY,
            slug=SLUG,
            company_email="hello@greenstar.example",
            company_phone="+441134960123",
            company_website="https://greenstar.example",
            number=CLIENT_NUMBER,
            industry=Client.Industry.SOLAR,
            plan=Client.Plan.PROFESSIONAL,
        )
        created["client"] = 1
    sending_number_add(client=client, number=CLIENT_NUMBER)  # idempotent: a re-run keeps it registered
    return client


def _users_ensure(client: Client, created: dict) -> tuple[User, User]:
    specs = [
        (
            OWNER_EMAIL,
            OWNER_PASSWORD,
            {
                "client": client,
                "role": User.Role.COMPANY_OWNER,
                "first_name": "Helen",
                "last_name": "Carter",
                "can_manage_users": True,
                "can_edit_lessons": True,
                "can_view_all_leads": True,
                "can_push_to_n8n": True,
            },
        ),
        (
            REP_EMAIL,
            REP_PASSWORD,
            {"client": client, "role": User.Role.SALES_REP, "first_name": "Tom", "last_name": "Ellis"},
        ),
        (
            STAFF_EMAIL,
            STAFF_PASSWORD,
            {
                "client": None,
                "role": User.Role.ADMIN,
                "first_name": "Platform",
                "last_name": "Staff",
                "is_staff": True,
                "is_superuser": True,
            },
        ),
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


def _tenant_data_create(*, client: Client, owner: User, rep: User, now: datetime) -> dict:
    rng = random.Random(SEED)  # noqa: S311 - demo data, deterministic on purpose
    start = london_at(now.astimezone(LONDON).date() - timedelta(days=now.astimezone(LONDON).weekday() + 14), 9)
    paused = start + timedelta(days=7, hours=2)  # Monday of the second week, 11:00: M3s half sent
    imported = start - timedelta(days=3) + timedelta(hours=1, minutes=20)  # the Friday before, 10:20

    numbers = [f"+447700900{n:03d}" for n in rng.sample(range(1, 1000), LEAD_COUNT + 7)]
    _, old_leads = old_dataset_create(rng, owner, numbers[LEAD_COUNT:], imported)
    dataset = dataset_create(
        name=DATASET_NAME,
        uploaded_by=owner,
        source="Website enquiry form export",
        description="Everyone who asked about solar in 2023 and 2024 and did not go ahead.",
    )
    cs = dataset.campaign_settings
    cs.twilio_number, cs.cal_booking_link = CLIENT_NUMBER, BOOKING_LINK
    # Sophie answers the simulator within seconds, so the demo shows a conversation without waiting.
    cs.ai_response_delay_seconds, cs.ai_multiple_messages_wait_seconds = 5, 5
    cs.save()

    plans = plans_new(rng, dataset, numbers[:LEAD_COUNT], old_leads[0], now, imported)
    cadence_simulate(rng, plans, start, paused, per_hour=min(cs.messages_per_hour or 60, 60))
    extra = leads_finish(rng, plans, now, paused, rep)
    Lead.objects.bulk_create([p.lead for p in plans])
    Dataset.objects.filter(pk=dataset.pk).update(
        created_at=imported,
        campaign_status=Dataset.CampaignStatus.PAUSED,
        campaign_start_date=start,
        column_mapping={
            "First Name": "first_name",
            "Surname": "last_name",
            "Mobile": "phone_number",
            "Email": "email",
            "Postcode": "postcode",
            "Enquiry Date": "inquiry_date",
            "Notes": "notes",
            "Source": "custom.source",
        },
        campaign_paused_reason="Paused by Helen on Monday morning while the team calls the hot leads.",
    )
    counts = threads_create(rng, client, cs, plans, owner, rep, imported, extra)
    sophie = sophie_data_create(dataset, owner, plans, now, start)
    return {"datasets": 2, "leads": len(plans) + len(old_leads), **counts, **sophie}
