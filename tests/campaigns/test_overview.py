"""The overview reads counters and rollups only: they stay equal to a COUNT through import, send, reply,
opt-out and opt-in, booking and conversion; the page costs the same at any size and never COUNTs leads
or messages."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.cadence import cadence_run_in_process
from campaigns.message_stats import message_stats_recount
from campaigns.models import Message, MessageStatsHour
from campaigns.overview import OverviewQuery, column_chart, overview_figures
from campaigns.services import campaign_start
from leads.counters import DATASET_COUNTERS, dataset_counters_recount
from leads.models import Dataset, Lead, LeadStatsHour
from leads.services import lead_status_change
from tests.campaigns.helpers import campaign_dataset, text_received, text_via_webhook

HOST = {"HTTP_HOST": "alpha.localhost"}
TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _snapshot():
    datasets = {d.pk: {c: getattr(d, c) for c in DATASET_COUNTERS} for d in Dataset.objects.all()}
    hours = sorted(LeadStatsHour.objects.values_list("dataset_id", "hour", "added", "contacted", "replied", "hot",
                                                     "booked", "converted", "opted_out"))  # fmt: skip
    messages = sorted(
        MessageStatsHour.objects.values_list("dataset_id", "hour", "sent", "delivered", "failed", "replies")
    )
    # rows whose counts went back to zero are as good as absent
    hours = [row for row in hours if any(row[2:])]
    messages = [row for row in messages if any(row[2:])]
    return datasets, hours, messages


def _assert_equal_to_a_recount():
    kept = _snapshot()
    dataset_counters_recount()
    message_stats_recount()
    assert kept == _snapshot()


def _counts(dataset: Dataset) -> dict:
    dataset.refresh_from_db()
    return {
        "contacted": dataset.contacted_leads,
        "replied": dataset.replied_leads,
        "booked": dataset.booked_leads,
        "converted": dataset.converted_leads,
        "opted_out": dataset.opted_out_leads,
    }


def _count(dataset: Dataset) -> dict:
    leads = Lead.objects.filter(dataset=dataset)
    return {
        "contacted": leads.filter(m1_sent_at__isnull=False).count(),
        "replied": leads.filter(reply_received_at__isnull=False).count(),
        "booked": leads.filter(call_booked=True).count(),
        "converted": leads.filter(contact_status="CONVERTED").count(),
        "opted_out": leads.filter(opted_out_at__isnull=False).count(),
    }


def test_counters_follow_a_campaign_from_import_to_conversion(alpha):
    dataset = campaign_dataset(leads=5)  # bulk-created: the import's way in
    _assert_equal_to_a_recount()

    campaign_start(dataset=dataset, at=TUESDAY_10)
    cadence_run_in_process(at=TUESDAY_10)
    assert _counts(dataset) == _count(dataset) and _count(dataset)["contacted"] == 5
    sent = Message.objects.filter(direction="outbound", sent_at__isnull=False).count()
    assert MessageStatsHour.objects.get(dataset=dataset).sent == sent == 5
    _assert_equal_to_a_recount()

    ann, bob, cy, *_ = Lead.objects.filter(dataset=dataset).order_by("first_name")
    text_received(ann.phone_number, "Yes please, I'm interested", at=TUESDAY_10 + timedelta(hours=1))
    text_via_webhook(bob.phone_number, "STOP", at=TUESDAY_10 + timedelta(hours=2))
    assert _counts(dataset) == _count(dataset)
    assert _counts(dataset)["opted_out"] == 1 and _counts(dataset)["replied"] >= 1
    _assert_equal_to_a_recount()

    text_via_webhook(bob.phone_number, "START", at=TUESDAY_10 + timedelta(hours=3))
    assert _count(dataset)["opted_out"] == 0 == _counts(dataset)["opted_out"]

    Lead.objects.filter(pk=ann.pk).update(call_booked=True, call_booked_time=TUESDAY_10 + timedelta(days=2))
    ann.refresh_from_db()
    lead_status_change(lead=ann, status="CONVERTED", actor=None)
    Message.objects.filter(lead=cy, direction="outbound").update(status="failed")
    assert _counts(dataset) == _count(dataset) == {**_count(dataset), "booked": 1, "converted": 1}
    replies = Message.objects.filter(direction="inbound").count()
    assert sum(MessageStatsHour.objects.values_list("replies", flat=True)) == replies
    assert sum(MessageStatsHour.objects.values_list("failed", flat=True)) == 1
    _assert_equal_to_a_recount()

    Lead.objects.filter(pk=cy.pk).delete()
    _assert_equal_to_a_recount()


def test_a_period_counts_the_cohort_texted_in_it(alpha, owner):
    dataset = campaign_dataset(leads=3)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    cadence_run_in_process(at=TUESDAY_10)
    first = Lead.objects.filter(dataset=dataset).order_by("first_name").first()
    text_received(first.phone_number, "Yes please, call me", at=TUESDAY_10 + timedelta(hours=1))

    week = overview_figures(owner, OverviewQuery(period="7d"), tz="Europe/London", now=TUESDAY_10 + timedelta(days=1))
    later = overview_figures(owner, OverviewQuery(period="7d"), tz="Europe/London", now=TUESDAY_10 + timedelta(days=30))

    assert (week.figure("contacted").value, week.figure("replied").value) == (3, 1)
    assert week.figure("replied").percent == "33.3%"
    assert sum(day["sent"] for day in week.days) == 3
    assert sum(day["replies"] for day in week.days) == 1
    assert later.figure("contacted").value == 0
    assert sum(part.value for part in week.parts) == week.active == 3


def _overview_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/?period=30d", **HOST)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_the_page_never_counts_leads_or_messages_and_costs_the_same_at_any_size(alpha, owner, client):
    client.force_login(owner)
    campaign_dataset(name="Small", leads=2)
    _overview_queries(client)  # the client's first request also marks it busy for beat's sweeps (one UPDATE)
    small = _overview_queries(client)
    big = campaign_dataset(name="Big", leads=60)
    campaign_start(dataset=big, at=TUESDAY_10)
    cadence_run_in_process(at=TUESDAY_10)
    large = _overview_queries(client)

    assert len(small) == len(large)
    for sql in large:
        upper = sql.upper()
        if '"READ_AT" IS NULL' in upper:
            continue  # the nav's unread-texts badge (every page has it) counts unread texts only
        assert "COUNT(" not in upper, sql
        assert 'FROM "LEADS"' not in upper or "LIMIT" in upper, sql  # latest replies: an index-ordered LIMIT


def test_the_page_shows_named_figures_and_accessible_charts(alpha, owner, client):
    client.force_login(owner)
    campaign_dataset(leads=2)

    html = client.get("/?period=all", **HOST).content.decode()

    for label in ("Texted (M1 sent)", "Opted out", "Not texted yet", "Cannot receive SMS", "Flagged duplicates"):
        assert label in html
    assert html.count('role="img"') == 5 and "<caption>Messages per day</caption>" in html


@pytest.mark.parametrize("params", ["period=forever", "period=%27%3B--", "dataset=12", "dataset=" + "9" * 400])
def test_bad_overview_parameters_get_a_400(alpha, owner, client, params):
    client.force_login(owner)

    assert client.get(f"/?{params}", **HOST).status_code == 400


def test_a_column_chart_has_a_titled_bar_a_day_with_its_labels_escaped():
    chart = column_chart([("1 Dec", 4), ("2 Dec", 0), ("<b>3 Dec</b>", 2)], series="sent", width=300, height=90)

    svg = str(chart["svg"])
    assert svg.count('<rect class="bar sent"') == 3
    assert '<rect class="bar sent" x="10.0" y="0.0" width="80.0" height="90.0"><title>1 Dec: 4</title></rect>' in svg
    assert "<title>2 Dec: 0</title>" in svg and 'height="0.0"' in svg
    assert "&lt;b&gt;3 Dec&lt;/b&gt;: 2" in svg and "<b>" not in svg
    assert chart["max"] == 4
