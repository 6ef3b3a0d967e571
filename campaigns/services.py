"""Campaign lifecycle per dataset: draft → active → paused → completed."""

from datetime import datetime

from django.db import transaction

from campaigns import content
from campaigns.models import Message, SendingHealth
from campaigns.numbers import sending_number, sending_number_problem
from campaigns.schedule import window_from_settings
from clients.access import current_client
from clients.models import Client, User
from leads.eligibility import Purpose
from leads.models import Dataset, Lead
from leads.selectors import dataset_custom_columns
from leads.services import lead_leave_cadence

Status = Dataset.CampaignStatus


class CampaignRefused(Exception):
    """A lifecycle action that cannot happen; `problems` lists every reason, for staff."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def start_problems(dataset: Dataset, client: Client) -> list[str]:
    """Every reason this dataset's campaign may not start (empty when it may)."""
    options = dataset.campaign_settings
    if options is None:
        return ["The dataset has no campaign settings."]
    problems = []
    if dataset.archived:
        problems.append("The dataset is archived.")
    if client.status != Client.Status.ACTIVE:
        problems.append(f"The client is {client.get_status_display().lower()}.")
    if not options.sending_hours_start or not options.sending_hours_end:
        problems.append("Set the sending hours (start and end).")
    else:
        try:
            window_from_settings(options)
        except ValueError as exc:
            problems.append(str(exc))
    if not options.sending_days:
        problems.append("Choose at least one sending day.")
    if not sending_number(options, client):
        problems.append("There is no sending number: set one in the campaign settings or the client's settings.")
    elif problem := sending_number_problem(sending_number(options, client), client):
        problems.append(problem)
    if not _has_leads_to_text(dataset):
        problems.append(
            "No lead in this dataset would be texted (none with a mobile number, not opted out, not contacted yet):"
            " import leads first."
            if dataset.leads.exists()
            else "The dataset has no leads: import leads first."
        )
    problems += content.cadence_problems(
        m1=options.m1_message,
        m2=options.m2_message,
        m3=options.m3_message,
        company_name=client.company_name,
        auto_append_opt_out=options.auto_append_opt_out,
        custom_columns=dataset_custom_columns(dataset),
    )
    return problems


def eligible_leads(dataset: Dataset):
    """Leads a starting cadence takes in: messageable, and not contacted yet (checked again at queueing
    and sending)."""
    return dataset.leads.messageable(purpose=Purpose.CADENCE).filter(
        contact_status=Lead.ContactStatus.READY, m1_sent_at__isnull=True
    )


def _has_leads_to_text(dataset: Dataset) -> bool:
    """A campaign with nobody to text would start and complete at once: new leads, or ones mid-cadence."""
    return eligible_leads(dataset).exists() or dataset.leads.filter(next_step__isnull=False).exists()


def _client() -> Client:
    return current_client()


def _refresh_client_flag(client: Client) -> None:
    """The public flag beat reads to decide which clients to tick."""
    running = Dataset.objects.filter(campaign_status=Status.ACTIVE, archived=False).exists()
    Client.objects.filter(pk=client.pk).update(has_active_campaign=running)


@transaction.atomic
def campaign_start(*, dataset: Dataset, at: datetime, actor: User | None = None) -> Dataset:
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    client = _client()
    if dataset.campaign_status not in (Status.DRAFT, Status.PAUSED):
        raise CampaignRefused(
            [f"The campaign is {dataset.get_campaign_status_display().lower()}; only a draft starts."]
        )
    problems = start_problems(dataset, client)
    if problems:
        raise CampaignRefused(problems)
    dataset.campaign_status = Status.ACTIVE
    dataset.campaign_start_date = dataset.campaign_start_date or at
    dataset.campaign_paused_reason = ""
    dataset.save(update_fields=["campaign_status", "campaign_start_date", "campaign_paused_reason", "updated_at"])
    # M1 is due from the moment the campaign starts; the tick sends it inside the window.
    eligible_leads(dataset).filter(next_step__isnull=True).update(next_step=Lead.Step.M1, due_at=at)
    _refresh_client_flag(client)
    return dataset


@transaction.atomic
def campaign_pause(*, dataset: Dataset, at: datetime, reason: str = "", actor: User | None = None) -> Dataset:
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if dataset.campaign_status != Status.ACTIVE:
        raise CampaignRefused([f"Only a running campaign can be paused; this one is {dataset.campaign_status}."])
    dataset.campaign_status = Status.PAUSED
    dataset.campaign_paused_reason = reason or (f"Paused by {actor.get_full_name()}" if actor else "Paused")
    dataset.save(update_fields=["campaign_status", "campaign_paused_reason", "updated_at"])
    _refresh_client_flag(_client())
    return dataset


@transaction.atomic
def campaign_resume(*, dataset: Dataset, at: datetime, actor: User | None = None) -> Dataset:
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if dataset.campaign_status != Status.PAUSED:
        raise CampaignRefused([f"Only a paused campaign can be resumed; this one is {dataset.campaign_status}."])
    problems = start_problems(dataset, _client())
    if problems:
        raise CampaignRefused(problems)
    dataset.campaign_status = Status.ACTIVE
    dataset.campaign_paused_reason = ""
    dataset.save(update_fields=["campaign_status", "campaign_paused_reason", "updated_at"])
    eligible_leads(dataset).filter(next_step__isnull=True).update(next_step=Lead.Step.M1, due_at=at)
    # Every text queued before the pause, held or backing off after an outage, is due now: the next tick
    # sends them (the claim checks window and limits). An outage's run of failures starts again from zero.
    Message.objects.filter(lead__dataset=dataset, status="pending").update(next_attempt_at=at)
    SendingHealth.objects.filter(dataset=dataset).update(failures=0, failing_since=None, last_error="")
    _refresh_client_flag(_client())
    return dataset


@transaction.atomic
def campaign_complete(*, dataset: Dataset, at: datetime, actor: User | None = None, reason: str = "") -> Dataset:
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    if dataset.campaign_status == Status.COMPLETED:
        return dataset
    dataset.campaign_status = Status.COMPLETED
    dataset.campaign_end_date = (
        dataset.campaign_end_date if dataset.campaign_end_date and dataset.campaign_end_date <= at else at
    )
    dataset.campaign_paused_reason = reason
    dataset.save(update_fields=["campaign_status", "campaign_end_date", "campaign_paused_reason", "updated_at"])
    lead_leave_cadence(leads=dataset.leads.all(), reason=reason or "The campaign ended.", at=at)
    _refresh_client_flag(_client())
    return dataset


ACTIONS = {"start": campaign_start, "pause": campaign_pause, "resume": campaign_resume, "complete": campaign_complete}
