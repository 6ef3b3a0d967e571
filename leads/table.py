"""The leads table: its filters, search, sorts and keyset pages, for the page, the export, the bulk
actions and the API alike (docs/dashboard.md).

    query = table_query_parse(request.GET)          # BadRequest (400) with a sentence for bad input
    leads = table_leads(user, query)                # the filtered queryset (no order, no page)
    page = table_page(user, query)                  # one keyset page, with `next_cursor`
    total = table_total(user, query)                # exact from the counters when it can, else an estimate

Every sort is on an indexed column with the lead's id as tie-breaker; a page starts after the last
row of the one before (the `after` cursor), so page 2000 costs what page 1 does: no OFFSET, no COUNT.
A nullable sort column (last message, last reply) keeps its empty values last, in a second segment
read by id.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.core.exceptions import BadRequest
from django.db import connection
from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Q, QuerySet, Sum
from django.http import QueryDict
from django.urls import reverse

from clients.models import User
from clients.roles import sees_all_leads
from leads import eligibility
from leads.models import Lead, Suppression
from leads.phones import normalise_phone
from leads.selectors import datasets_visible_to, leads_visible_to

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_QUERY_LENGTH = 200
SEARCH_MAX = 10_000  # name matches a search reads; a search matching more is refined, not paged through


@dataclass(frozen=True)
class Sort:
    label: str
    column: str
    nullable: bool
    kind: type  # of the column's values, for reading a cursor back


SORTS = {
    "last_message_at": Sort("Last message", "last_message_at", True, datetime),
    "reply_received_at": Sort("Last reply", "reply_received_at", True, datetime),
    "created_at": Sort("Added", "created_at", False, datetime),
    "first_name": Sort("First name", "first_name", False, str),
    "phone_number": Sort("Phone", "phone_number", False, str),
}
DEFAULT_SORT = "-last_message_at"
SORT_CHOICES = [(f"{'-' if desc else ''}{name}", f"{sort.label} {arrow}")
                for name, sort in SORTS.items() for desc, arrow in ((True, "↓"), (False, "↑"))]  # fmt: skip

YES_NO = {"yes": True, "true": True, "1": True, "on": True, "no": False, "false": False, "0": False, "off": False}
# Flag filters: URL name -> (label, the Lead field, whether "yes" means the field is True).
FLAGS = {
    "call_booked": ("Call booked", "call_booked", True),
    "manual_mode": ("Manual mode", "manual_mode", True),
    "archived": ("Archived", "archived", True),
    "duplicate": ("Flagged duplicate", "is_duplicate", True),
    "no_sms": ("Cannot receive SMS", "sms_capable", False),
}
NO_SENTIMENT = "none"
UNASSIGNED = "none"
ME = "me"


@dataclass(frozen=True)
class TableQuery:
    """What the table shows: filters (None = any), search text, sort, page size and cursor."""

    dataset: UUID | None = None
    status: str | None = None
    sentiment: str | None = None  # a Lead.Sentiment value or "none"
    assigned: str | None = None  # "me", "none" or a user id
    flags: dict[str, bool] = field(default_factory=dict)  # FLAGS name -> wanted value
    q: str = ""
    sort: str = DEFAULT_SORT
    limit: int = PAGE_SIZE
    after: str = ""  # the cursor of the page to start after
    before: str = ""  # or the cursor of the page to end before (the Previous link)

    @property
    def first_page(self) -> bool:
        return not (self.after or self.before)

    @property
    def filtered(self) -> bool:
        return bool(self.status or self.sentiment or self.assigned or self.flags or self.q)

    def params(self, **changes) -> str:
        """This query as a URL query string (without the cursor unless given), for links and forms."""
        query = replace(self, **{"after": "", "before": "", **changes})
        out = QueryDict(mutable=True)
        for name in ("status", "sentiment", "assigned", "q", "after", "before"):
            if value := getattr(query, name):
                out[name] = value
        if query.dataset:
            out["dataset"] = str(query.dataset)
        for name, value in query.flags.items():
            out[name] = "yes" if value else "no"
        if query.sort != DEFAULT_SORT:
            out["sort"] = query.sort
        if query.limit != PAGE_SIZE:
            out["limit"] = str(query.limit)
        return out.urlencode()


def _text(params, name: str, *, limit: int = 100) -> str:
    value = params.get(name, "") or ""
    if "\x00" in value:
        raise BadRequest(f"{name} must not contain a NUL byte.")
    value = value.strip()
    if len(value) > limit:
        raise BadRequest(f"{name} is too long (at most {limit} characters).")
    return value


def table_query_parse(params) -> TableQuery:
    """Reads the table's URL parameters; anything malformed is a BadRequest naming the parameter and what
    it accepts (a value that is well formed but matches nothing gives an empty table)."""
    values: dict = {}
    if dataset := _text(params, "dataset"):
        try:
            values["dataset"] = UUID(dataset)
        except ValueError:
            raise BadRequest(f"dataset must be an id like 3f2b…-…; {dataset[:40]!r} is not one.") from None
    if status := _text(params, "status"):
        if status not in Lead.ContactStatus.values:
            raise BadRequest(f"status must be one of {', '.join(Lead.ContactStatus.values)}.")
        values["status"] = status
    if sentiment := _text(params, "sentiment"):
        if sentiment not in (*Lead.Sentiment.values, NO_SENTIMENT):
            raise BadRequest(f"sentiment must be one of {', '.join(Lead.Sentiment.values)} or {NO_SENTIMENT}.")
        values["sentiment"] = sentiment
    if assigned := _text(params, "assigned"):
        if assigned not in (ME, UNASSIGNED):
            try:
                assigned = str(UUID(assigned))
            except ValueError:
                raise BadRequest("assigned must be me, none or a user's id.") from None
        values["assigned"] = assigned
    flags = {}
    for name in FLAGS:
        if raw := _text(params, name).lower():
            if raw not in YES_NO:
                raise BadRequest(f"{name} must be yes or no.")
            flags[name] = YES_NO[raw]
    values["flags"] = flags
    values["q"] = " ".join(_text(params, "q", limit=MAX_QUERY_LENGTH).split())
    sort = _text(params, "sort") or DEFAULT_SORT
    if sort.removeprefix("-") not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)} (with - in front for descending).")
    values["sort"] = sort
    if limit := _text(params, "limit"):
        if not limit.isascii() or not limit.isdigit() or not 1 <= int(limit) <= MAX_PAGE_SIZE:
            raise BadRequest(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}.")
        values["limit"] = int(limit)
    values["after"] = _text(params, "after", limit=300)
    values["before"] = _text(params, "before", limit=300)
    if values["after"] and values["before"]:
        raise BadRequest("Give after or before, not both.")
    query = TableQuery(**values)
    for name in ("after", "before"):
        if getattr(query, name):
            _cursor_read(query, name)  # refuse a bad cursor before anything runs
    return query


# --- Search ------------------------------------------------------------------------

_PHONE_LIKE = re.compile(r"^[+(]?[\d\s().-]{6,}$")
_WORDS = re.compile(r"\w+")
NAME_VECTOR = SearchVector("first_name", "last_name", config="english")  # idx_leads_name_search's expression


def _search(leads: QuerySet[Lead], q: str, *, by_ctid: bool = False) -> QuerySet[Lead]:
    """A number in any form a person types finds the lead by its E.164 number; anything else searches the
    names with the full-text index, each word as a prefix ("aoife pat" finds Aoife Patel)."""
    if _PHONE_LIKE.match(q) and sum(c.isdigit() for c in q) >= 6:
        result = normalise_phone(q, allow_international=True, allow_fiction=settings.DBR_ALLOW_FICTION_NUMBERS)
        numbers = {q.replace(" ", "")}
        if result.e164:
            numbers.add(result.e164)
        return leads.filter(phone_number__in=numbers)
    if "@" in q:
        return leads.filter(email__iexact=q)
    words = _WORDS.findall(q)
    if not words:
        return leads.none()
    # Every word whole but the last, which may still be being typed ("aoife pat").
    terms = " & ".join([*words[:-1], f"{words[-1]}:*"])
    # The matches come from the GIN index in a LIMITed subquery (which the planner cannot flatten): left to
    # itself it walks the sort's index and computes every lead's tsvector until a page is full (0.7 s at 1M).
    matches = (
        Lead.objects.alias(name_search=NAME_VECTOR)
        .filter(name_search=SearchQuery(terms, config="english", search_type="raw"))
        .values("id")[:SEARCH_MAX]
    )
    # A page fetches the matches by ctid (_RowsAmong); other callers keep `id IN`, which the planner estimates
    # better (the total's estimate) and which stays right inside another query.
    return leads.filter(_RowsAmong(matches)) if by_ctid else leads.filter(id__in=matches)


class _RowsAmong(Expression):
    """`leads.ctid = ANY(ARRAY(<the matches' ctids>))`: the rows the subquery found, fetched by their place in
    the table (a TID scan) instead of looked up again one by one in the primary key (`id IN (…)`): at a
    million leads a search matching 6,000 spent 30 of its 70 ms on those look-ups. Both run in the one
    statement, on one snapshot, so a ctid names the same row version in both."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, matches: QuerySet[Lead]):
        super().__init__()
        self.matches = matches

    def as_sql(self, compiler, connection):
        sql, params = self.matches.query.get_compiler(connection=connection).as_sql()
        select_id = f"SELECT {connection.ops.quote_name(Lead._meta.db_table)}.{connection.ops.quote_name('id')} "
        if not sql.startswith(select_id):
            raise ValueError(f"unexpected search subquery: {sql[:80]}")
        sql = f"SELECT {connection.ops.quote_name(Lead._meta.db_table)}.ctid " + sql[len(select_id) :]
        outer = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{outer}.ctid = ANY(ARRAY({sql}))", params


# --- Filters ---------------------------------------------------------------------


def table_leads(user: User, query: TableQuery, *, by_ctid: bool = False) -> QuerySet[Lead]:
    """The leads `user` may see that match the query's filters and search (unordered). `by_ctid`: for a page
    read at the top level only (see _RowsAmong)."""
    leads = leads_visible_to(user)
    if query.dataset:
        leads = leads.filter(dataset_id=query.dataset)
    if query.status:
        leads = leads.filter(contact_status=query.status)
    if query.sentiment == NO_SENTIMENT:
        leads = leads.filter(lead_sentiment__isnull=True)
    elif query.sentiment:
        leads = leads.filter(lead_sentiment=query.sentiment)
    if query.assigned == ME:
        leads = leads.filter(assigned_to=user)
    elif query.assigned == UNASSIGNED:
        leads = leads.filter(assigned_to__isnull=True)
    elif query.assigned:
        leads = leads.filter(assigned_to_id=query.assigned)
    for name, wanted in query.flags.items():
        _, column, yes_means_true = FLAGS[name]
        leads = leads.filter(**{column: wanted if yes_means_true else not wanted})
    if query.q:
        leads = _search(leads, query.q, by_ctid=by_ctid)
    return leads


def table_export_leads(user: User, query: TableQuery, ids: list[UUID] | None = None) -> QuerySet[Lead]:
    """What an export of the table holds: the query's leads (or the ticked `ids` among them), in its sort,
    with the dataset and assignee each row names. The page's Export button and the API read this."""
    leads = table_leads(user, query).select_related("dataset", "assigned_to")
    if ids:
        leads = leads.filter(pk__in=ids)
    column, desc = SORTS[query.sort.removeprefix("-")].column, query.sort.startswith("-")
    # The table's order: empty values last either way, ties by id in the sort's direction.
    order = F(column).desc(nulls_last=True) if desc else F(column).asc(nulls_last=True)
    return leads.order_by(order, "-id" if desc else "id")


# --- Keyset pages --------------------------------------------------------------------


@dataclass
class TablePage:
    leads: list[Lead]
    next_cursor: str | None
    query: TableQuery
    previous_cursor: str | None = None

    @property
    def next_params(self) -> str | None:
        return self.query.params(after=self.next_cursor) if self.next_cursor else None

    @property
    def previous_params(self) -> str | None:
        return self.query.params(before=self.previous_cursor) if self.previous_cursor else None


def _cursor_make(lead: Lead, sort: Sort) -> str:
    value = getattr(lead, sort.column)
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, str(lead.pk)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_read(query: TableQuery, name: str = "after") -> tuple[object, UUID]:
    sort = SORTS[query.sort.removeprefix("-")]
    text = getattr(query, name)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        value, pk = json.loads(raw)
        pk = UUID(pk)
        if value is not None:
            value = datetime.fromisoformat(value) if sort.kind is datetime else value
            if not isinstance(value, sort.kind) or (sort.kind is str and "\x00" in value):
                raise ValueError
        elif not sort.nullable:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest(f"This page link is not valid any more ({name}=…); start again from the first page.") from None
    return value, pk


def _ordered(leads: QuerySet[Lead], column: str, desc: bool) -> QuerySet[Lead]:
    return leads.order_by(f"-{column}", "-id") if desc else leads.order_by(column, "id")


def _after(leads: QuerySet[Lead], column: str, desc: bool, value, pk) -> QuerySet[Lead]:
    """Rows after (value, pk) in the sort order. `column >= value` bounds the index scan; the OR only
    drops the ties already shown, so the scan starts at the cursor however deep it is."""
    if desc:
        return leads.filter(Q(**{f"{column}__lte": value}) & (Q(**{f"{column}__lt": value}) | Q(id__lt=pk)))
    return leads.filter(Q(**{f"{column}__gte": value}) & (Q(**{f"{column}__gt": value}) | Q(id__gt=pk)))


def table_rows(leads: QuerySet[Lead], query: TableQuery) -> tuple[list[Lead], str | None]:
    """One page of `leads` in the query's sort, after its cursor: (the rows, the next page's cursor)."""
    desc = query.sort.startswith("-")
    sort = SORTS[query.sort.removeprefix("-")]
    column, want = sort.column, query.limit + 1
    value, pk = _cursor_read(query) if query.after else (None, None)
    in_nulls = pk is not None and value is None  # the cursor is in the second (empty values) segment
    rows: list[Lead] = []
    if not in_nulls:
        filled = leads.filter(**{f"{column}__isnull": False}) if sort.nullable else leads
        if pk is not None:
            filled = _after(filled, column, desc, value, pk)
        rows = list(_ordered(filled, column, desc)[:want])
    if sort.nullable and len(rows) < want:
        empty = leads.filter(**{f"{column}__isnull": True})
        if in_nulls:
            empty = empty.filter(id__lt=pk) if desc else empty.filter(id__gt=pk)
        rows += list(empty.order_by("-id" if desc else "id")[: want - len(rows)])
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return rows, (_cursor_make(rows[-1], sort) if more else None)


def table_rows_before(leads: QuerySet[Lead], query: TableQuery) -> tuple[list[Lead], bool]:
    """The page that ends just before the query's `before` cursor: (its rows in the sort's order, whether
    there are rows before them). The same index walked the other way: still no OFFSET, at any depth.

    The order is the filled values first, then the empty ones by id, so walking back from a cursor among the
    empty values goes through them and then into the filled values from their end."""
    desc = query.sort.startswith("-")
    sort = SORTS[query.sort.removeprefix("-")]
    column, want = sort.column, query.limit + 1
    value, pk = _cursor_read(query, "before")
    rows: list[Lead] = []
    if value is None:  # the cursor is among the empty values
        empty = leads.filter(**{f"{column}__isnull": True})
        empty = empty.filter(id__gt=pk) if desc else empty.filter(id__lt=pk)
        rows = list(empty.order_by("id" if desc else "-id")[:want])
        filled = leads.filter(**{f"{column}__isnull": False})
    else:
        filled = leads.filter(**{f"{column}__isnull": False}) if sort.nullable else leads
        filled = _after(filled, column, not desc, value, pk)
    if len(rows) < want:
        rows += list(_ordered(filled, column, not desc)[: want - len(rows)])
    more = len(rows) > query.limit
    return rows[: query.limit][::-1], more


# The columns a row of the page shows or needs (its badge, its cursor): the rest of a lead (custom fields, the
# conversation summary, …) is not read, so 50 rows cost less to fetch and to build.
PAGE_FIELDS = (
    "id", "first_name", "last_name", "phone_number", "contact_status", "latest_lead_reply", "sms_capable_reason",
    "dataset_id", "assigned_to_id", "assigned_to__first_name", "assigned_to__last_name", "assigned_to__email",
    *{sort.column for sort in SORTS.values()}, *eligibility.LEAD_FIELDS,
)  # fmt: skip
STATUS_LABELS = dict(Lead.ContactStatus.choices)


def table_page(user: User, query: TableQuery, *, dataset_names: dict | None = None) -> TablePage:
    """One page of the table for `user`, with what each row shows (dataset name, assignee, whether its number
    is suppressed, for the quiet badge, its status's label and its page's address).

    `dataset_names` (id -> name of every dataset the user sees, which the page reads anyway for its filter)
    names each row's dataset without a join and a Dataset object a row."""
    leads = table_leads(user, query, by_ctid=True).select_related("assigned_to")
    if dataset_names is None:
        leads = leads.select_related("dataset").only(*PAGE_FIELDS, "dataset__name")
    else:
        leads = leads.only(*PAGE_FIELDS)
    leads = leads.annotate(suppressed=Exists(Suppression.objects.filter(phone_number=OuterRef("phone_number"))))
    sort = SORTS[query.sort.removeprefix("-")]
    if query.before:
        rows, more_before = table_rows_before(leads, query)
        # The row the cursor names comes after this page, so there is a next page whenever there are rows.
        cursor = _cursor_make(rows[-1], sort) if rows else None
        previous = _cursor_make(rows[0], sort) if more_before else None
    else:
        rows, cursor = table_rows(leads, query)
        previous = _cursor_make(rows[0], sort) if query.after and rows else None
    url = reverse("lead_detail", args=[_URL_PLACEHOLDER])  # reversed once, not once a row
    for lead in rows:
        lead.dataset_name = lead.dataset.name if dataset_names is None else dataset_names.get(lead.dataset_id, "")
        lead.status_label = STATUS_LABELS.get(lead.contact_status, lead.contact_status)
        lead.url = url.replace(str(_URL_PLACEHOLDER), str(lead.pk))
        lead.quiet = quiet_badge(lead, suppressed=lead.suppressed)
    return TablePage(leads=rows, next_cursor=cursor, query=query, previous_cursor=previous)


_URL_PLACEHOLDER = UUID(int=0)


# --- Totals ------------------------------------------------------------------------


@dataclass(frozen=True)
class Total:
    value: int
    exact: bool

    def __str__(self) -> str:
        return f"{self.value:,}" if self.exact else f"about {self.value:,}"


def table_total(user: User, query: TableQuery, *, datasets: list | None = None) -> Total:
    """How many leads match: exact from the dataset counters when the filters allow it (dataset and
    archived only, a user who sees every lead of those datasets), else the planner's estimate.

    `datasets`: every dataset the user sees with its counters, when the caller has read them already (the
    page, for its filter): summed here instead of in one more query."""
    only_archived = set(query.flags) <= {"archived"}
    if sees_all_leads(user) and only_archived and not (query.status or query.sentiment or query.assigned or query.q):
        if datasets is not None:
            chosen = [d for d in datasets if not query.dataset or d.pk == query.dataset]
            total, active = sum(d.total_leads for d in chosen), sum(d.active_leads for d in chosen)
        else:
            visible = datasets_visible_to(user)
            if query.dataset:
                visible = visible.filter(pk=query.dataset)
            sums = visible.aggregate(total=Sum("total_leads"), active=Sum("active_leads"))
            total, active = sums["total"] or 0, sums["active"] or 0
        archived = query.flags.get("archived")
        return Total(total if archived is None else (total - active if archived else active), exact=True)
    return Total(_estimate(table_leads(user, query)), exact=False)


def _estimate(leads: QuerySet[Lead]) -> int:
    sql, params = leads.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


# --- Why a lead is quiet -------------------------------------------------------------

# A rule of leads/eligibility.py -> the badge a lead failing it carries in the table.
QUIET_LABELS = {
    eligibility.SUPPRESSED: "Suppressed",
    "archived": "Archived",
    "sms_capable": "Cannot receive SMS",
    "manual_mode": "Manual mode",
    "is_duplicate": "Duplicate",
}


@dataclass(frozen=True)
class Quiet:
    label: str
    reason: str


def quiet_badge(lead: Lead, *, suppressed: bool) -> Quiet | None:
    """Why the cadence will not text this lead, when its status alone would not say so (Ready, Contacted):
    the first rule of leads/eligibility.py it fails, as a badge. None when nothing holds it back."""
    if lead.contact_status not in eligibility.NOT_CLOSED:
        return None
    values = {name: getattr(lead, name) for name in eligibility.LEAD_FIELDS}
    rule = eligibility.first_failed(eligibility.Purpose.CADENCE, {**values, eligibility.SUPPRESSED: suppressed})
    if rule is None or rule.field not in QUIET_LABELS:
        return None
    return _quiet(rule, lead)


def quiet_badges(lead: Lead, *, suppressed: bool) -> list[Quiet]:
    """Every badge-worthy rule the lead fails, whatever its status (the lead page: a HOT lead in manual mode
    shows both)."""
    values = {**{name: getattr(lead, name) for name in eligibility.LEAD_FIELDS}, eligibility.SUPPRESSED: suppressed}
    rules = eligibility.rules_for(eligibility.Purpose.CADENCE)
    return [_quiet(rule, lead) for rule in rules if rule.field in QUIET_LABELS and not rule.passes(values)]


def _quiet(rule: eligibility.Rule, lead: Lead) -> Quiet:
    status = STATUS_LABELS.get(lead.contact_status, lead.contact_status)
    reason = rule.reason.format(status=status.lower())
    if rule.field == "sms_capable" and lead.sms_capable_reason:
        reason = f"{reason}: {lead.sms_capable_reason}"
    return Quiet(QUIET_LABELS[rule.field], reason[:1].upper() + reason[1:] + ".")
