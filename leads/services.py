from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from clients.models import User
from leads import events
from leads.assignment import lead_hot_assign
from leads.counters import dataset_counters_recount
from leads.defaults import DEFAULT_TEMPLATE, DEFAULT_TEMPLATE_NAME
from leads.happenings import Happening, lead_happened
from leads.models import CampaignSettings, Dataset, Lead
from leads.notifications import lead_notify


def seed_client_defaults(sender, tenant, **kwargs) -> None:
    """post_schema_sync: give a new client its "Default" campaign settings template."""
    if tenant.schema_name == "public":
        return
    with schema_context(tenant.schema_name):
        if not CampaignSettings.objects.filter(is_template=True, name=DEFAULT_TEMPLATE_NAME).exists():
            CampaignSettings.objects.create(**DEFAULT_TEMPLATE)


def default_template() -> CampaignSettings:
    templates = CampaignSettings.objects.filter(is_template=True)
    return templates.filter(name=DEFAULT_TEMPLATE_NAME).first() or templates.order_by("created_at").first()


def campaign_settings_copy(*, template: CampaignSettings, name: str | None = None) -> CampaignSettings:
    """A live copy of a template for one dataset; templates themselves are never used live."""
    copy = CampaignSettings.objects.get(pk=template.pk)
    copy.pk = None
    copy._state.adding = True
    copy.is_template = False
    copy.name = name or template.name
    copy.save()
    return copy


@transaction.atomic
def dataset_create(
    *,
    name: str,
    template: CampaignSettings | None = None,
    uploaded_by: User | None = None,
    description: str | None = None,
    source: str | None = None,
) -> Dataset:
    template = template or default_template()
    settings = campaign_settings_copy(template=template, name=f"{name} settings") if template else None
    return Dataset.objects.create(
        name=name, description=description, source=source, uploaded_by=uploaded_by, campaign_settings=settings
    )


def dataset_stats_recount(*, dataset_id) -> Dataset:
    """Recounts a dataset's counters and hourly rollup from its leads (repair; the triggers keep them right)."""
    dataset_counters_recount(dataset_id)
    return Dataset.objects.get(pk=dataset_id)


def lead_status_change(
    *,
    lead: Lead,
    status: str,
    actor: User | None,
    reason: str = "",
    at: datetime | None = None,
    install_date: date | None = None,
    notify: bool = True,
) -> Lead:
    """One status change, on the timeline; a lead turning HOT tells its rep (the dataset's
    `hot_lead_notification`) unless the caller tells them something more precise (`notify=False`)."""
    if status not in Lead.ContactStatus.values:
        raise ValidationError({"contact_status": f"Unknown status {status!r}."})
    old = lead.contact_status
    if status == Lead.ContactStatus.CONVERTED and install_date:
        lead.install_date = install_date  # the return on the campaign: when the job happens
        lead.save(update_fields=["install_date", "updated_at"])
    if old == status:
        return lead
    lead.contact_status = status
    if status in (Lead.ContactStatus.REMOVED, Lead.ContactStatus.CONVERTED, Lead.ContactStatus.COLD):
        lead.due_at = None  # the cadence stops for this lead
        lead.next_step = None
    lead.save(update_fields=["contact_status", "due_at", "next_step", "updated_at"])
    events.status_changed(lead, old=old, new=status, actor=actor, reason=reason)
    options = lead.dataset.campaign_settings
    if status == Lead.ContactStatus.HOT:
        at = at or timezone.now()
        lead_happened(lead=lead, kind=Happening.HOT, at=at, data={"reason": reason})
        lead_hot_assign(lead=lead, at=at)  # first, so the rep it picks is the one told
        if notify and (options is None or options.hot_lead_notification):
            lead_notify(lead=lead, kind="hot", reason=reason or "Now HOT.", at=at, actor=actor)
    return lead


def lead_manual_mode_set(*, lead: Lead, enabled: bool, actor: User | None, now: datetime) -> Lead:
    if lead.manual_mode == enabled:
        return lead
    lead.manual_mode = enabled
    lead.manual_mode_activated_at = now if enabled else None
    if enabled:
        lead.due_at = None  # manual mode stops the cadence for this lead (docs/eligibility.md)
    lead.save(update_fields=["manual_mode", "manual_mode_activated_at", "due_at", "updated_at"])
    events.manual_mode_changed(lead, enabled=enabled, actor=actor)
    return lead


def lead_assign(*, lead: Lead, assignee: User | None, actor: User | None) -> Lead:
    if assignee is not None and (assignee.client_id != connection.tenant.id or not assignee.is_active):
        raise ValidationError({"assigned_to": "Leads can only be assigned to active users of this client."})
    lead.assigned_to = assignee
    lead.save(update_fields=["assigned_to", "updated_at"])
    events.lead_assigned(lead, assignee=assignee, actor=actor)
    return lead


def lead_sentiment_set(*, lead: Lead, sentiment: str) -> Lead:
    if sentiment not in Lead.Sentiment.values:
        raise ValidationError({"lead_sentiment": f"Unknown sentiment {sentiment!r}."})
    if lead.lead_sentiment != sentiment:
        lead.lead_sentiment = sentiment
        lead.save(update_fields=["lead_sentiment", "updated_at"])
    return lead


def lead_leave_cadence(*, leads: QuerySet[Lead], reason: str, at: datetime) -> int:
    """Takes these leads out of the cadence (no next step, nothing due), each with a timeline event.

    Two statements however many leads: the tick and the end of a campaign call it for whole
    batches. Leads already out are left alone and get no event.
    """
    leaving = Lead.objects.filter(pk__in=leads.values("pk")).filter(
        Q(next_step__isnull=False) | Q(due_at__isnull=False)
    )
    left = events.cadence_left(leaving, reason=reason, at=at)  # before the update empties `leaving`
    if left:
        leaving.update(next_step=None, due_at=None)
    return left


def lead_sms_incapable_mark(*, lead_id, reason: str, at: datetime) -> None:
    """The provider says this number cannot take texts: the lead is flagged and leaves the cadence."""
    Lead.objects.filter(pk=lead_id).update(sms_capable=False, sms_capable_reason=reason)
    lead_leave_cadence(leads=Lead.objects.filter(pk=lead_id), reason=reason, at=at)


BEING_CONTACTED = ("READY", "CONTACTED_1", "CONTACTED_2", "CONTACTED_3")


def lead_send_failed_mark(*, lead_id, reason: str, at: datetime) -> None:
    """The provider refused a cadence text for good: the lead leaves the cadence and, while it was only
    being contacted, its status says sending failed (the reason is on its timeline)."""
    lead = Lead.objects.filter(pk=lead_id).only("contact_status", "dataset_id").first()
    if lead is None:
        return
    left = lead_leave_cadence(leads=Lead.objects.filter(pk=lead_id), reason=reason, at=at)
    if left and lead.contact_status in BEING_CONTACTED:
        Lead.objects.filter(pk=lead_id).update(contact_status=Lead.ContactStatus.SEND_FAILED)
        events.status_changed(lead, old=lead.contact_status, new=Lead.ContactStatus.SEND_FAILED, reason=reason)
