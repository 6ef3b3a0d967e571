"""The leads table (leads/table.py): keyset pages equal the full ordered list for every sort, filters,
name and phone search, totals without COUNT, quiet badges, bad input, and isolation."""

import random
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise

import pytest
from django.core.exceptions import BadRequest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients.models import User
from leads.models import Lead, Suppression
from leads.services import dataset_create
from leads.table import (
    SORTS,
    TableQuery,
    table_export_leads,
    table_leads,
    table_page,
    table_query_parse,
    table_total,
)

HOST = {"HTTP_HOST": "alpha.localhost"}
NOW = timezone.now().replace(microsecond=0)


def _lead(dataset, n, **values) -> Lead:
    values = {"first_name": f"Lead{n:03d}", **values}
    return Lead.objects.create(dataset=dataset, phone_number=f"+4477009{n:05d}", **values)


@pytest.fixture
def table(alpha, owner, teammate):
    north, south = dataset_create(name="North"), dataset_create(name="South")
    rng = random.Random(14)
    for n in range(37):
        _lead(
            north if n % 3 else south,
            n,
            # ties and empty values on purpose: keyset pages must neither skip nor repeat them
            last_message_at=None if n % 4 == 0 else NOW - timedelta(hours=rng.randint(0, 5)),
            reply_received_at=None if n % 2 else NOW - timedelta(hours=rng.randint(0, 3)),
            first_name=rng.choice(["Ann", "Bob", "Cy"]),
            assigned_to=teammate if n % 5 == 0 else None,
        )
    aoife = _lead(north, 900, first_name="Aoife", last_name="Patel", lead_sentiment="HOT", call_booked=True)
    Lead.objects.filter(pk=aoife.pk).update(phone_number="+447710946685")
    return north, south


def _walk(user, query: TableQuery) -> list:
    """Every page of the table, following the cursors."""
    seen, after = [], ""
    for _ in range(100):
        page = table_page(user, TableQuery(**{**query.__dict__, "after": after}))
        seen += [lead.pk for lead in page.leads]
        if not page.next_cursor:
            return seen
        after = page.next_cursor
    raise AssertionError("the cursors never ended")


def _python_order(leads, sort: str) -> list:
    column = SORTS[sort.removeprefix("-")].column
    desc = sort.startswith("-")
    filled = sorted(
        (lead for lead in leads if getattr(lead, column) is not None),
        key=lambda lead: (getattr(lead, column), lead.pk),
        reverse=desc,
    )
    empty = sorted((lead for lead in leads if getattr(lead, column) is None), key=lambda lead: lead.pk, reverse=desc)
    return [lead.pk for lead in filled + empty]


@pytest.mark.parametrize("sort", [f"{d}{name}" for name in SORTS for d in ("", "-")])
@pytest.mark.parametrize("limit", [1, 7, 50])
def test_keyset_pages_equal_the_full_ordered_list_for_every_sort(table, owner, sort, limit):
    query = TableQuery(sort=sort, limit=limit)
    expected = _python_order(list(Lead.objects.all()), sort)

    assert _walk(owner, query) == expected


def _pages_forward(user, query: TableQuery) -> list:
    pages, after = [], ""
    for _ in range(100):
        page = table_page(user, replace(query, after=after))
        pages.append(page)
        if not page.next_cursor:
            return pages
        after = page.next_cursor
    raise AssertionError("the cursors never ended")


@pytest.mark.parametrize("sort", [f"{d}{name}" for name in SORTS for d in ("", "-")])
@pytest.mark.parametrize("limit", [1, 7])
def test_previous_pages_walk_back_through_the_same_rows_for_every_sort(table, owner, sort, limit):
    """From the last page, Previous (the `before` cursor) gives back every row in order, across empty values
    and ties; the first page reached that way has no Previous link, and each page's Next leads on again."""
    query = TableQuery(sort=sort, limit=limit)
    forward = _pages_forward(owner, query)
    expected = [lead.pk for page in forward for lead in page.leads]

    assert forward[0].previous_cursor is None
    page, back = forward[-1], []
    for _ in range(100):
        back = [lead.pk for lead in page.leads] + back
        if not page.previous_cursor:
            break
        previous = table_page(owner, replace(query, before=page.previous_cursor))
        following = table_page(owner, replace(query, after=previous.next_cursor))  # its Next link
        assert [lead.pk for lead in following.leads] == [lead.pk for lead in page.leads]
        page = previous

    assert back == expected


def test_previous_page_link_on_the_page_and_no_offset(table, owner, client):
    client.force_login(owner)
    first = client.get("/leads/?limit=5", **HOST)
    second = client.get(f"/leads/?limit=5&after={first.context['page'].next_cursor}", **HOST)
    previous = second.context["page"].previous_params

    assert "Previous page" not in first.content.decode()
    assert 'rel="prev"' in second.content.decode()
    with CaptureQueriesContext(connection) as queries:
        back = client.get(f"/leads/?{previous}", **HOST)

    assert back.status_code == 200
    assert [lead.pk for lead in back.context["page"].leads] == [lead.pk for lead in first.context["page"].leads]
    lead_queries = [q["sql"] for q in queries.captured_queries if '"leads"' in q["sql"] and "read_at" not in q["sql"]]
    assert lead_queries and not any("OFFSET" in sql.upper() for sql in lead_queries)


def test_after_and_before_together_are_refused(table, owner, client):
    client.force_login(owner)
    cursor = client.get("/leads/?limit=5", **HOST).context["page"].next_cursor

    response = client.get(f"/leads/?after={cursor}&before={cursor}", **HOST)

    assert response.status_code == 400
    assert "not both" in response.content.decode()


@pytest.mark.parametrize("sort", ["-last_message_at", "first_name", "-reply_received_at", "reply_received_at"])
def test_an_export_holds_the_tables_rows_in_the_tables_order(table, owner, sort):
    query = TableQuery(sort=sort, limit=7)

    assert [lead.pk for lead in table_export_leads(owner, query)] == _walk(owner, query)


def test_keyset_pages_with_a_filter(table, owner):
    north, _ = table
    query = TableQuery(dataset=north.pk, sort="-reply_received_at", limit=4)

    assert _walk(owner, query) == _python_order(list(north.leads.all()), "-reply_received_at")


def test_page_two_has_no_offset_and_no_count(table, owner, client):
    client.force_login(owner)
    first = client.get("/leads/?limit=5&sort=-last_message_at", **HOST)
    after = first.context["page"].next_cursor

    with CaptureQueriesContext(connection) as queries:
        second = client.get(f"/leads/?limit=5&sort=-last_message_at&after={after}", **HOST)

    assert second.status_code == 200
    # (the nav's unread-texts badge counts unread texts only, on its partial index: not the table's business)
    lead_queries = [q["sql"] for q in queries.captured_queries if '"leads"' in q["sql"] and "read_at" not in q["sql"]]
    assert lead_queries and not any("OFFSET" in sql.upper() for sql in lead_queries)
    assert not any("COUNT(" in sql.upper() for sql in lead_queries), lead_queries
    assert {lead.pk for lead in first.context["page"].leads}.isdisjoint(
        lead.pk for lead in second.context["page"].leads
    )


@pytest.mark.parametrize(
    "typed", ["07710 946685", "07710946685", "+44 7710 946685", "+447710946685", "(07710) 946-685"]
)
def test_a_phone_number_in_any_form_finds_the_lead(table, owner, typed):
    found = list(table_leads(owner, table_query_parse(QueryDict(f"q={typed.replace('+', '%2B')}"))))

    assert [lead.full_name for lead in found] == ["Aoife Patel"]


@pytest.mark.parametrize("typed", ["Aoife Patel", "aoife", "PATEL", "aoife pat", "Patel Aoife"])
def test_a_name_finds_the_lead_through_the_full_text_index(table, owner, typed):
    found = list(table_leads(owner, table_query_parse(QueryDict(f"q={typed}"))))

    assert [lead.full_name for lead in found] == ["Aoife Patel"]


@pytest.mark.parametrize("sort", ["-last_message_at", "first_name", "-reply_received_at"])
def test_a_page_of_a_name_search_fetches_the_matches_by_ctid_and_finds_what_id_in_finds(table, owner, sort):
    north, _ = table
    for n in range(6):  # more Patels than a page of 4 holds, some never texted (the empty-values segment)
        _lead(north, 960 + n, first_name="Aoife", last_name=f"Patel{n}", last_message_at=None if n % 2 else NOW)
    query = TableQuery(q="aoife pat", sort=sort, limit=4)
    expected = list(_ordered_ids(table_leads(owner, query), sort))

    with CaptureQueriesContext(connection) as queries:
        walked = _walk(owner, query)

    assert walked == expected and len(expected) == 7
    assert any(".ctid = ANY(ARRAY(SELECT" in q["sql"] for q in queries.captured_queries)


def _ordered_ids(leads, sort: str) -> list:
    column = SORTS[sort.removeprefix("-")].column
    desc = sort.startswith("-")
    ordered = sorted(leads, key=lambda lead: (getattr(lead, column) is None, str(lead.pk)))
    filled = [lead for lead in ordered if getattr(lead, column) is not None]
    empty = [lead for lead in ordered if getattr(lead, column) is None]
    filled.sort(key=lambda lead: (getattr(lead, column), lead.pk), reverse=desc)
    empty.sort(key=lambda lead: lead.pk, reverse=desc)
    return [lead.pk for lead in filled + empty]


def test_the_name_search_uses_idx_leads_name_search(table, owner):
    leads = table_leads(owner, table_query_parse(QueryDict("q=Aoife Patel")))
    sql, params = leads.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "idx_leads_name_search" in plan


def test_filters(table, owner, teammate):
    north, south = table

    def names(params: str) -> int:
        return table_leads(owner, table_query_parse(QueryDict(params))).count()

    assert names(f"dataset={south.pk}") == south.leads.count()
    assert names("sentiment=HOT") == 1
    assert names("call_booked=yes") == 1
    assert names("call_booked=no") == 37
    assert names(f"assigned={teammate.pk}") == Lead.objects.filter(assigned_to=teammate).count()
    assert names("assigned=none") == Lead.objects.filter(assigned_to__isnull=True).count()
    Lead.objects.filter(first_name="Bob").update(manual_mode=True)
    assert names("manual_mode=yes") == Lead.objects.filter(first_name="Bob").count()
    Lead.objects.filter(first_name="Cy").update(sms_capable=False, sms_capable_reason="Landline")
    assert names("no_sms=yes") == Lead.objects.filter(first_name="Cy").count()
    assert names("status=REMOVED") == 0
    assert names("duplicate=yes&archived=no") == 0


def test_a_sales_rep_sees_only_their_leads_and_my_leads_is_theirs(table, teammate, client):
    mine = table_leads(teammate, table_query_parse(QueryDict("")))

    assert set(mine) == set(Lead.objects.filter(assigned_to=teammate))
    client.force_login(teammate)
    assert client.get("/", **HOST)["Location"] == "/leads/?assigned=me"
    assert "My leads" in client.get("/leads/?assigned=me", **HOST).content.decode()


def test_the_total_comes_from_the_counters_or_an_estimate(table, owner):
    north, _ = table

    with CaptureQueriesContext(connection) as queries:
        exact = table_total(owner, TableQuery(dataset=north.pk))
        archived = table_total(owner, TableQuery(flags={"archived": True}))
        estimate = table_total(owner, TableQuery(status="HOT"))

    assert (exact.value, exact.exact) == (north.leads.count(), True)
    assert (archived.value, archived.exact) == (0, True)
    assert not estimate.exact and str(estimate).startswith("about ")
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)


def test_a_quiet_lead_carries_a_badge_never_a_plain_ready(table, owner, client):
    north, _ = table
    landline = _lead(north, 950, first_name="Lana", sms_capable=False, sms_capable_reason="Landline number")
    duplicate = _lead(north, 951, first_name="Dupe", is_duplicate=True)
    manual = _lead(north, 952, first_name="Manny", manual_mode=True)
    suppressed = _lead(north, 953, first_name="Sue")
    Suppression.objects.create(phone_number=suppressed.phone_number, source=Suppression.Source.STAFF)
    ready = _lead(north, 954, first_name="Reddy")

    page = {lead.pk: lead for lead in table_page(owner, TableQuery(limit=200)).leads}

    assert page[landline.pk].quiet.label == "Cannot receive SMS"
    assert "Landline number" in page[landline.pk].quiet.reason
    assert page[duplicate.pk].quiet.label == "Duplicate"
    assert page[manual.pk].quiet.label == "Manual mode"
    assert page[suppressed.pk].quiet.label == "Suppressed"
    assert page[ready.pk].quiet is None
    client.force_login(owner)
    html = client.get("/leads/?limit=200&q=Lana", **HOST).content.decode()
    assert "Cannot receive SMS" in html and ">Ready</span>" not in html


BAD = [
    ("status", "NOPE"),
    ("status", "' OR 1=1 --"),
    ("sentiment", "x" * 5000),
    ("dataset", "1; DROP TABLE leads"),
    ("assigned", "someone"),
    ("call_booked", "maybe"),
    ("archived", "2"),
    ("sort", "password"),
    ("sort", "-id; select 1"),
    ("limit", "0"),
    ("limit", "99999999999999999999"),
    ("limit", "-5"),
    ("limit", "٣"),
    ("after", "not-a-cursor"),
    ("after", "WyJ4IiwgInkiXQ"),  # ["x", "y"]
    ("before", "not-a-cursor"),
    ("q", "a" * 500),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_bad_parameters_get_a_clear_400(table, owner, client, name, value):
    client.force_login(owner)

    response = client.get("/leads/", {name: value}, **HOST)

    assert response.status_code == 400
    assert name.encode() in response.content or b"page link" in response.content


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(
        ["q", "status", "sentiment", "dataset", "assigned", "sort", "limit", "after", "archived", "no_sms", "x"]
    ),
    value=st.text(max_size=60) | st.sampled_from(["-last_message_at", "HOT", "yes", "%", "'; --", "0" * 40]),
)
def test_fuzzed_parameters_never_give_a_500(table, owner, name, value):
    try:
        query = table_query_parse(QueryDict(mutable=True) | {name: value})
    except BadRequest:
        return
    page = table_page(owner, query)
    assert len(page.leads) <= query.limit


def test_another_clients_user_sees_nothing_of_alpha(table, beta, outsider, client):
    client.force_login(outsider)

    assert client.get("/leads/", **HOST).status_code in (302, 403)
    connection.set_tenant(beta)
    assert list(table_leads(outsider, TableQuery())) == []


def test_dataset_restrictions_apply(table, make_user, alpha):
    north, south = table
    limited = make_user(alpha, "limited@alpha.example", User.Role.MANAGER, allowed_dataset_ids=[str(south.pk)])

    seen = _walk(limited, TableQuery(limit=5))

    assert set(seen) == set(south.leads.values_list("pk", flat=True))
    assert list(table_leads(limited, TableQuery(dataset=north.pk))) == []


def test_keyset_order_is_stable_within_ties(table, owner):
    ids = _walk(owner, TableQuery(sort="first_name", limit=3))
    leads = {lead.pk: lead for lead in Lead.objects.all()}
    keys = [(leads[pk].first_name, pk) for pk in ids]

    assert all(a < b for a, b in pairwise(keys))
