import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import schema_context

from campaigns.models import Conversation, InboundSms, Message
from clients.models import Client, Domain, SendingNumber, User
from devtools.demo.greenstar import OWNER_EMAIL, REP_EMAIL, STAFF_EMAIL
from leads.models import Dataset, Lead, Suppression
from sophie.defaults import DEFAULT_LESSONS
from sophie.models import Insight, Prompt, PromptVersion

FICTION = re.compile(r"^\+447700900\d{3}$")
EMAILS = [OWNER_EMAIL, REP_EMAIL, STAFF_EMAIL]
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def _remove_greenstar() -> None:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute('DROP SCHEMA IF EXISTS "greenstar" CASCADE')
        # Raw deletes: Django's collector cannot follow tenant rows that point at users.
        ids = "SELECT id FROM public.users WHERE email = ANY(%s)"
        for table in (
            "api_tokens",
            "api_idempotency_keys",
            "users_groups",
            "users_user_permissions",
            "django_admin_log",
        ):
            cursor.execute(f"DELETE FROM public.{table} WHERE user_id IN ({ids})", [EMAILS])
        cursor.execute("DELETE FROM public.users WHERE email = ANY(%s)", [EMAILS])
    for client in Client.objects.filter(slug="greenstar"):
        Domain.objects.filter(tenant=client).delete()
        SendingNumber.objects.filter(client=client).delete()
        Client.objects.filter(pk=client.pk).delete()


@pytest.fixture
def greenstar(committed_db):
    _remove_greenstar()
    yield
    _remove_greenstar()


def _seed() -> str:
    from io import StringIO

    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _row_counts() -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in ("clients", "clients_domain", "users"):
            cursor.execute(f"SELECT count(*) FROM public.{table}")
            counts[table] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'greenstar' "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "greenstar"."{table}"')
            counts[f"greenstar.{table}"] = cursor.fetchone()[0]
    return counts


def test_it_creates_the_client_its_users_and_200_fiction_range_leads(greenstar):
    out = _seed()

    client = Client.objects.get(slug="greenstar")
    assert client.company_name == "Greenstar Solar" and client.schema_ready
    assert client.company_email and client.company_phone and client.company_website
    assert FICTION.match(client.twilio_phone_number)
    assert SendingNumber.objects.get(number=client.twilio_phone_number).client == client
    assert Domain.objects.get(tenant=client).domain == "greenstar.localhost"
    owner, rep, staff = (User.objects.get(email=email) for email in EMAILS)
    assert owner.client == client and owner.role == User.Role.COMPANY_OWNER
    assert owner.can_manage_users and owner.can_edit_lessons and owner.check_password("greenstar-demo")
    assert rep.client == client and rep.role == User.Role.SALES_REP and rep.check_password("greenstar-demo")
    assert staff.client is None and staff.is_staff and staff.is_superuser and staff.check_password("dbr-staff-demo")
    assert "http://greenstar.localhost:8000/" in out and "owner@greenstar.example / greenstar-demo" in out

    with schema_context("greenstar"):
        dataset = Dataset.objects.get(name="Solar enquiries 2023–2024")
        leads = Lead.objects.filter(dataset=dataset)
        assert leads.count() == 200
        numbers = list(Lead.objects.values_list("phone_number", flat=True))
        assert all(FICTION.match(n) for n in numbers)
        assert len(set(leads.values_list("phone_number", flat=True))) == 200
        assert all(FICTION.match(n) for n in Message.objects.values_list("to_number", flat=True))
        today = timezone.localdate()
        assert not leads.filter(
            Q(inquiry_date__gt=today - timedelta(days=182)) | Q(inquiry_date__lt=today - timedelta(days=3 * 366))
        ).exists()
        assert all(re.match(r"^[A-Z]{1,2}\d{1,2} \d[A-Z]{2}$", p) for p in leads.values_list("postcode", flat=True))
        settings = dataset.campaign_settings
        assert not settings.is_template and settings.cal_booking_link.startswith("https://cal.com/greenstar/")
        assert settings.twilio_number == client.twilio_phone_number
        prompt = Prompt.objects.get(is_live=True, dataset=dataset)
        assert Prompt.objects.filter(is_live=True, dataset=None).count() == 1  # the client default
        assert prompt.status == Prompt.Status.LIVE and prompt.template.category == "solar_dbr_old"
        assert prompt.compiled_prompt.startswith("## Context") and prompt.deployed_at
        assert PromptVersion.objects.filter(prompt=prompt, version="1.0").exists()
        assert Insight.objects.filter(insight_type=Insight.Type.CAMPAIGN, dataset=dataset).exists()


def test_it_shapes_the_funnel_like_domain_normal_ranges(greenstar):
    _seed()

    with schema_context("greenstar"):
        dataset = Dataset.objects.get(name="Solar enquiries 2023–2024")
        leads = Lead.objects.filter(dataset=dataset)
        total = leads.count()
        replied = leads.exclude(reply_received_at=None)
        negative = replied.filter(lead_sentiment=Lead.Sentiment.NEGATIVE)
        positive = leads.filter(lead_sentiment__in=[Lead.Sentiment.POSITIVE, Lead.Sentiment.HOT])
        first_sends = Message.objects.filter(lead__dataset=dataset, message_type="M1")
        delivered = first_sends.filter(status__in=[Message.Status.DELIVERED, Message.Status.SENT])

        assert 0.80 <= delivered.count() / first_sends.count() <= 0.90
        assert 0.12 <= replied.count() / total <= 0.25
        assert 1 / 3 <= negative.count() / replied.count() <= 1 / 2
        assert 0.03 <= positive.count() / total <= 0.08
        assert 0.01 <= leads.filter(contact_status=Lead.ContactStatus.CALL_BOOKED).count() / total <= 0.04
        assert leads.filter(contact_status__startswith="CONTACTED_").count() > total / 2
        for step in ("1", "2", "3"):
            assert leads.filter(contact_status=f"CONTACTED_{step}").exists()
        assert 1 <= leads.filter(archived=True).count() <= 2
        assert leads.filter(sms_capable=False, sms_capable_reason="Landline (not a mobile)").count() == 2
        duplicate = leads.get(is_duplicate=True)
        assert duplicate.duplicate_of.dataset.name == "Facebook leads 2022"
        assert duplicate.duplicate_of.phone_number == duplicate.phone_number
        assert leads.filter(contact_status=Lead.ContactStatus.READY, sms_capable=True, is_duplicate=False).exists()

        removed = leads.filter(contact_status=Lead.ContactStatus.REMOVED)
        assert removed.exists() and set(removed.values_list("lead_sentiment", flat=True)) == {"NEGATIVE"}
        suppressed = set(Suppression.objects.values_list("phone_number", flat=True))
        assert set(removed.values_list("phone_number", flat=True)) == suppressed
        assert Suppression.objects.filter(source=Suppression.Source.OPT_OUT).exists()
        booked = leads.filter(contact_status=Lead.ContactStatus.CALL_BOOKED)
        assert all(b.call_booked and b.cal_booking_id and b.call_booked_time for b in booked)

        dataset.refresh_from_db()
        assert (dataset.total_leads, dataset.active_leads, dataset.hot_leads, dataset.converted_leads) == (
            total,
            leads.filter(archived=False).count(),
            leads.filter(contact_status="HOT").count(),
            leads.filter(contact_status="CONVERTED").count(),
        )
        for other in Dataset.objects.exclude(pk=dataset.pk):
            assert other.total_leads == other.leads.count()


def test_it_keeps_leads_conversations_and_messages_consistent(greenstar):
    _seed()
    now = timezone.now()

    with schema_context("greenstar"):
        for lead in Lead.objects.prefetch_related("messages").select_related("conversation").exclude(m1_sent_at=None):
            thread = sorted(lead.messages.all(), key=lambda m: m.sent_at)
            steps = {m.message_type: m.sent_at for m in thread if m.message_type in ("M1", "M2", "M3")}
            assert steps == {
                k: v for k, v in {"M1": lead.m1_sent_at, "M2": lead.m2_sent_at, "M3": lead.m3_sent_at}.items() if v
            }
            assert lead.total_messages == len(thread) == lead.conversation.message_count
            assert lead.last_message_at == thread[-1].sent_at == lead.conversation.last_message_at
            assert lead.conversation.started_at == thread[0].sent_at
            inbound = [m for m in thread if m.direction == Message.Direction.INBOUND]
            if inbound:
                assert lead.latest_lead_reply == inbound[-1].content
                assert lead.reply_received_at == inbound[-1].sent_at
                assert lead.due_at is None
            else:
                assert lead.reply_received_at is None and lead.latest_lead_reply is None
            assert thread[-1].sent_at < now
            assert lead.events.filter(event_type="sent").count() == sum(1 for m in thread if m.direction == "outbound")
        assert all(re.match(r"^SM[0-9a-f]{32}$", sid) for sid in Message.objects.values_list("twilio_sid", flat=True))
        assert not Message.objects.filter(direction="outbound", sent_at=None).exists()
        assert Conversation.objects.count() == Lead.objects.exclude(m1_sent_at=None).count()


def test_it_only_sends_texts_that_follow_the_rules(greenstar):
    _seed()
    words = [lesson["title"] for lesson in DEFAULT_LESSONS if lesson["lesson_type"] == "blacklist_word"]
    blacklist = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)

    with schema_context("greenstar"):
        outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND)
        for message in outbound:
            assert not set(message.content) - GSM7, message.content
            assert not blacklist.search(message.content), message.content
        for message in outbound.filter(message_type__in=["M1", "M2", "M3"]):
            assert "STOP" in message.content and "Greenstar Solar" in message.content
            assert "http" not in message.content
        for lead in Lead.objects.filter(messages__content__contains="https://"):
            link = lead.messages.filter(content__contains="https://").earliest("sent_at")
            assert lead.messages.filter(direction="inbound", sent_at__lt=link.sent_at).exists(), "link before a yes"
        assert outbound.filter(ai_generated=True).exists()


def test_it_changes_no_row_when_run_twice(greenstar):
    _seed()
    before = _row_counts()

    out = _seed()

    assert _row_counts() == before
    assert "nothing changed" in out
    assert before["greenstar.leads"] == 207 and before["greenstar.messages"] > 400


def test_it_leaves_replied_conversations_for_the_lead_simulator(greenstar, client, settings):
    _seed()
    settings.DBR_SMS_BACKEND = "simulator"

    with schema_context("greenstar"):
        replies = Message.objects.filter(direction=Message.Direction.INBOUND)
        stored = InboundSms.objects.all()
        assert stored.count() == replies.count() > 5
        assert not stored.filter(processed_at=None).exists()
        assert set(stored.values_list("message_id", flat=True)) == set(replies.values_list("pk", flat=True))
        assert stored.filter(outcome="opted_out").count() == Suppression.objects.count()
        replied = Lead.objects.exclude(reply_received_at=None).order_by("-reply_received_at").first()
    client.force_login(User.objects.get(email=OWNER_EMAIL))

    page = client.get("/simulator/", HTTP_HOST="greenstar.localhost").content.decode()

    assert "texted leads" in page and replied.full_name in page
