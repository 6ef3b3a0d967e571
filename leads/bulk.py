"""Bulk actions on leads: one service each, applied to a queryset in batches (docs/dashboard.md).

Each service takes the leads to act on as a queryset (already limited to what the actor may see:
`leads.table.table_leads` or `leads_visible_to`), changes them in a few statements per batch, writes one
timeline event per lead changed, and returns how many it changed. Leads already in the wanted state
are left alone and get no event.

`BULK_ACTIONS` is the registry the leads table, the background job and the API read: the action's
name, its label, the role action it needs and its service. Apps above `leads` add theirs from their
`apps.py` (campaigns registers "remove and suppress", which cancels queued texts).

Up to `INLINE_MAX` leads run inside the request; more run as a background job (`leads.tasks.bulk_job`)
that walks the leads by id in batches of `BATCH`, one transaction each, with its progress in Redis.
"""

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import QueryDict

from clients.models import User
from clients.queue import enqueue
from clients.roles import Action
from leads.models import Lead, LeadEvent
from leads.table import table_export_leads, table_leads, table_query_parse

BATCH = 1000
INLINE_MAX = 1000
PROGRESS_TTL = 24 * 3600

Type = LeadEvent.Type


def _events(ids, event_type: str, actor: User | None, **data) -> None:
    LeadEvent.objects.bulk_create(
        [LeadEvent(lead_id=pk, event_type=event_type, actor=actor, data=data) for pk in ids], batch_size=BATCH
    )


def _ids(leads: QuerySet[Lead]) -> list:
    return list(leads.values_list("id", flat=True))


def leads_assign(*, leads: QuerySet[Lead], assignee: User | None, actor: User | None, at: datetime) -> int:
    """Assigns the leads to `assignee` (an active user of this client), or unassigns them (None)."""
    if assignee is not None and (assignee.client_id != connection.tenant.id or not assignee.is_active):
        raise ValidationError({"assigned_to": "Leads can only be assigned to active users of this client."})
    changing = leads.exclude(assigned_to=assignee) if assignee else leads.filter(assigned_to__isnull=False)
    ids = _ids(changing)
    Lead.objects.filter(pk__in=ids).update(assigned_to=assignee, updated_at=at)
    name = assignee.get_full_name() if assignee else None
    _events(ids, Type.ASSIGNED, actor, assignee_id=str(assignee.pk) if assignee else None, assignee=name, reason="bulk")
    return len(ids)


def leads_manual_mode_set(*, leads: QuerySet[Lead], enabled: bool, actor: User | None, at: datetime) -> int:
    """Manual mode on (the cadence and Sophie stop; staff still text) or off, for every lead."""
    ids = _ids(leads.exclude(manual_mode=enabled))
    changes = {"manual_mode": enabled, "manual_mode_activated_at": at if enabled else None, "updated_at": at}
    if enabled:
        changes["due_at"] = None  # as lead_manual_mode_set: manual mode stops the cadence
    Lead.objects.filter(pk__in=ids).update(**changes)
    _events(ids, Type.MANUAL_MODE, actor, enabled=enabled)
    return len(ids)


def leads_archive(*, leads: QuerySet[Lead], actor: User | None, at: datetime) -> int:
    """Archives the leads: they leave the cadence, receive nothing more and drop out of the active counts."""
    ids = _ids(leads.filter(archived=False))
    Lead.objects.filter(pk__in=ids).update(archived=True, archived_at=at, due_at=None, next_step=None, updated_at=at)
    _events(ids, Type.ARCHIVED, actor, reason="Archived by staff")
    return len(ids)


@dataclass(frozen=True)
class BulkAction:
    name: str
    label: str  # a verb phrase: "Archive", "Assign to …"
    requires: Action
    apply: Callable[..., int]  # apply(leads=, actor=, at=, **params) -> leads changed
    needs_assignee: bool = False
    warning: str = ""


BULK_ACTIONS: dict[str, BulkAction] = {}


def bulk_action_register(action: BulkAction) -> None:
    BULK_ACTIONS[action.name] = action


def _assign(*, leads, actor, at, assignee=None):
    return leads_assign(leads=leads, assignee=assignee, actor=actor, at=at)


bulk_action_register(BulkAction("assign", "Assign", Action.ASSIGN_LEADS, _assign, needs_assignee=True))
bulk_action_register(
    BulkAction(
        "manual_on",
        "Turn manual mode on",
        Action.SET_MANUAL_MODE,
        lambda *, leads, actor, at: leads_manual_mode_set(leads=leads, enabled=True, actor=actor, at=at),
    )
)
bulk_action_register(
    BulkAction(
        "manual_off",
        "Turn manual mode off",
        Action.SET_MANUAL_MODE,
        lambda *, leads, actor, at: leads_manual_mode_set(leads=leads, enabled=False, actor=actor, at=at),
    )
)
bulk_action_register(
    BulkAction(
        "archive",
        "Archive",
        Action.EDIT_DATASETS,
        lambda *, leads, actor, at: leads_archive(leads=leads, actor=actor, at=at),
        warning="Archived leads receive nothing more.",
    )
)


def batches(leads: QuerySet[Lead], size: int = BATCH) -> Iterator[QuerySet[Lead]]:
    """The leads in batches by id (a keyset walk: a batch the action moved out of the filter does not shift
    the next one)."""
    last = None
    while True:
        page = leads.order_by("id")
        if last is not None:
            page = page.filter(id__gt=last)
        ids = list(page.values_list("id", flat=True)[:size])
        if not ids:
            return
        last = ids[-1]
        yield Lead.objects.filter(pk__in=ids)


def bulk_apply(
    action: BulkAction,
    *,
    leads: QuerySet[Lead],
    actor: User | None,
    at: datetime,
    params: dict | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Runs `action` over the leads batch by batch, each batch in its own transaction; returns the leads
    changed. `progress(done)` is told after each batch how many leads have been looked at."""
    changed = done = 0
    for batch in batches(leads):
        with transaction.atomic():
            size = batch.count()
            changed += action.apply(leads=batch, actor=actor, at=at, **(params or {}))
        done += size
        if progress:
            progress(done)
    return changed


# --- A background job's progress (Redis, like an import's) ---------------------------------


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def _key(job_id) -> str:
    return f"dbr:{connection.schema_name}:bulk:{job_id}"


def bulk_job_new() -> str:
    return uuid.uuid4().hex


def bulk_progress_set(job_id, **values) -> None:
    try:
        current = bulk_progress_get(job_id) or {}
        _redis().set(_key(job_id), json.dumps({**current, **values}), ex=PROGRESS_TTL)
    except redis.RedisError:
        pass  # progress is a courtesy; the job itself must not fail for it


def bulk_progress_get(job_id) -> dict | None:
    try:
        raw = _redis().get(_key(job_id))
    except redis.RedisError:
        return None
    return json.loads(raw) if raw else None


def bulk_leads(actor: User, *, query_string: str, ids: list[str] | None) -> QuerySet[Lead]:
    """The leads a bulk action covers: the table's leads for `query_string` (what the actor may see, filtered),
    and of those only `ids` when the actor ticked rows rather than chose "all that match"."""
    leads = table_leads(actor, table_query_parse(QueryDict(query_string)))
    if ids is not None:
        leads = leads.filter(pk__in=ids)
    return leads


def export_job_start(*, actor: User, query_string: str, ids: list[str] | None = None, back: str = "") -> tuple:
    """Queues `leads.tasks.export_job` for the table's leads (or the `ids` among them): (job id, or None when
    the worker cannot be reached and nothing was queued; how many leads it covers)."""
    from leads.exports import export_filename
    from leads.tasks import export_job

    count = table_export_leads(actor, table_query_parse(QueryDict(query_string)), ids).count()
    job_id = bulk_job_new()
    bulk_progress_set(job_id, phase="queued", done=0, total=count, action="Export", kind="export", back=back)
    queued = enqueue(export_job, job_id, str(actor.pk), query_string, export_filename(), ids, after_commit=False)
    return (job_id if queued else None), count
