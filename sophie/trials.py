"""Prompt trials (docs/prompts.md "Trials"): a draft version answers a share of a dataset's new conversations
beside the live one, and the two are compared on reply and booking rates.

- One running trial per dataset (the partial unique constraint `prompt_trials_one_running_per_dataset`).
- A lead's arm is a hash of (lead id, trial id): stable whichever worker asks, independent between trials,
  and stored on the conversation the first time Sophie writes in it, so a lead never switches arm.
- "New conversations" are the ones Sophie had not written in before the trial started: a lead half-way
  through a conversation keeps the voice it started with.
- The agent reads its version through `sophie.selectors.agent_inputs`, which asks `arm_for` here.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from campaigns.models import Conversation
from clients.models import User
from leads.models import Dataset, Lead
from sophie.models import AiReply, Prompt, PromptTrial
from sophie.performance import Rate, prompt_performance, two_proportion_z
from sophie.prompts import prompt_go_live

TRIAL, CONTROL = PromptTrial.Arm.TRIAL, PromptTrial.Arm.CONTROL
# Below this p-value (two-sided) a difference is called significant: the usual 5% level.
SIGNIFICANCE = 0.05


class TrialRefused(Exception):
    """A trial action that cannot be done, in words for the person who tried."""


class ShareRefused(TrialRefused):
    """The share itself is not valid (the API names the field; pages show it as any refusal)."""


def trial_arm(*, lead_id, trial_id, share_percent: int) -> str:
    """The arm a lead falls in: the first 8 bytes of sha256("lead:trial") as a number in [0, 10000) below
    share x 100 means the trial version. Pure and stable."""
    digest = hashlib.sha256(f"{lead_id}:{trial_id}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % 10_000
    return TRIAL if bucket < share_percent * 100 else CONTROL


def _share(value) -> int:
    try:
        share = int(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        raise ShareRefused("The share must be a whole number of percent, between 1 and 99.") from None
    if not 1 <= share <= 99:
        raise ShareRefused(
            f"A share of {share}% is not a trial: choose between 1 and 99% of new conversations "
            "(0% would test nothing; for 100%, make the version live)."
        )
    return share


def trial_running(*, dataset: Dataset | None) -> PromptTrial | None:
    if dataset is None:
        return None
    return (
        PromptTrial.objects.select_related("candidate", "control")
        .filter(dataset=dataset, status=PromptTrial.Status.RUNNING)
        .first()
    )


def trial_start(*, prompt: Prompt, share_percent, actor: User | None, at: datetime) -> PromptTrial:
    """Puts a draft of a dataset's chain on trial beside the live version for `share_percent`% of new
    conversations."""
    from sophie.selectors import prompt_live_for  # the selector imports this module

    share = _share(share_percent)
    if prompt.dataset_id is None:
        raise TrialRefused(
            "Trials run on one dataset's conversations: make a version for a dataset, then put it on trial."
        )
    if prompt.status != Prompt.Status.DRAFT:
        raise TrialRefused(f"Only a draft can go on trial; v{prompt.version} is {prompt.get_status_display().lower()}.")
    dataset = prompt.dataset
    if dataset.archived:
        raise TrialRefused(f"The dataset {dataset.name} is archived: nothing new is sent, so nothing to try.")
    control = prompt_live_for(dataset=dataset, at=at)
    try:
        with transaction.atomic():
            return PromptTrial.objects.create(
                dataset=dataset,
                candidate=prompt,
                control=control,
                share_percent=share,
                started_at=at,
                started_by=actor,
                created_at=at,
            )
    except IntegrityError:
        running = trial_running(dataset=dataset)
        which = f" (v{running.candidate.version} at {running.share_percent}%)" if running else ""
        raise TrialRefused(
            f"A trial is already running for {dataset.name}{which}: stop it or make it live first."
        ) from None


def trial_stop(*, trial: PromptTrial, actor: User | None, at: datetime, reason: str = "") -> PromptTrial:
    """Ends a running trial; its conversations go back to the live version from their next reply."""
    stopped = PromptTrial.objects.filter(pk=trial.pk, status=PromptTrial.Status.RUNNING).update(
        status=PromptTrial.Status.STOPPED,
        ended_at=at,
        ended_by=actor,
        end_reason=(reason or "").strip() or "Stopped by staff.",
        updated_at=at,
    )
    if not stopped:
        raise TrialRefused("This trial has already ended.")
    return PromptTrial.objects.get(pk=trial.pk)


def trial_promote(*, trial: PromptTrial, actor: User | None, at: datetime) -> Prompt:
    """ "Make live": the trial's version replaces the live one (the trial ends as promoted, in the same
    transaction, see `sophie.prompts._make_live`). Refused if the live version changed since the trial began."""
    if trial.status != PromptTrial.Status.RUNNING:
        raise TrialRefused("This trial has already ended.")
    # The dataset's own live row is what gets replaced; a control that was the client default means none was.
    own_control = trial.control.dataset_id == trial.dataset_id
    return prompt_go_live(
        prompt=trial.candidate, actor=actor, at=at, replacing=trial.control_id if own_control else None
    )


def arm_for(*, trial: PromptTrial, lead: Lead) -> str:
    """The arm this lead's conversation is in: the stored one, else the hashed one for a conversation
    Sophie had not written in before the trial, else control (an older conversation keeps the live voice)."""
    conversation = Conversation.objects.filter(lead=lead).values("id", "trial_id", "trial_arm").first()
    if conversation and conversation["trial_id"] == trial.pk and conversation["trial_arm"]:
        return conversation["trial_arm"]
    if (
        conversation
        and AiReply.objects.filter(
            message__conversation_id=conversation["id"], written_at__lt=trial.started_at
        ).exists()
    ):
        return CONTROL
    return trial_arm(lead_id=lead.pk, trial_id=trial.pk, share_percent=trial.share_percent)


def trial_arm_store(*, lead: Lead, prompt_used: Prompt | None, at: datetime) -> str | None:
    """After Sophie wrote for a lead: keeps the conversation's arm of the dataset's running trial (once; a
    stored arm never changes). Nothing is stored when the version used does not match the arm (a trial
    started while the text was being written): the next reply decides."""
    trial = trial_running(dataset=lead.dataset)
    if trial is None:
        return None
    arm = arm_for(trial=trial, lead=lead)
    used = getattr(prompt_used, "pk", None)
    if (arm == TRIAL) != (used == trial.candidate_id):
        return None
    # Only a conversation in no trial yet: an earlier trial's conversations stay counted in that trial.
    Conversation.objects.filter(lead=lead, trial_id__isnull=True).update(
        trial_id=trial.pk, trial_arm=arm, updated_at=at
    )
    return arm


@dataclass(frozen=True)
class ArmComparison:
    """One rate, trial arm against control, with the z-test."""

    label: str
    trial: Rate
    control: Rate
    z: float | None
    p_value: float | None

    @property
    def enough(self) -> bool:
        return self.trial.enough and self.control.enough

    @property
    def significant(self) -> bool:
        return self.enough and self.p_value is not None and self.p_value < SIGNIFICANCE

    @property
    def p_shown(self) -> str:
        if self.p_value is None:
            return "—"
        return "p < 0.001" if self.p_value < 0.001 else f"p = {self.p_value:.3f}"

    @property
    def better(self) -> str:
        """Which arm the difference favours ("trial", "control" or "")."""
        if not self.significant:
            return ""
        return TRIAL if (self.trial.value or 0) > (self.control.value or 0) else CONTROL


@dataclass(frozen=True)
class TrialComparison:
    trial: PromptTrial
    conversations_trial: int
    conversations_control: int
    rates: tuple[ArmComparison, ...]


def _compare(label: str, trial: Rate, control: Rate) -> ArmComparison:
    test = two_proportion_z(trial.successes, trial.n, control.successes, control.n)
    return ArmComparison(label, trial, control, *(test or (None, None)))


def trial_comparison(*, trial: PromptTrial) -> TrialComparison:
    """The page's comparison: each arm's figures from the one performance selector, scoped to its arm."""
    mine = prompt_performance(prompt=trial.candidate, trial_id=trial.pk, arm=TRIAL)
    theirs = prompt_performance(prompt=trial.control, trial_id=trial.pk, arm=CONTROL)
    return TrialComparison(
        trial=trial,
        conversations_trial=Conversation.objects.filter(trial_id=trial.pk, trial_arm=TRIAL).count(),
        conversations_control=Conversation.objects.filter(trial_id=trial.pk, trial_arm=CONTROL).count(),
        rates=(
            _compare("Reply rate after an AI text", mine.reply_rate, theirs.reply_rate),
            _compare("Booking rate", mine.booking_rate, theirs.booking_rate),
        ),
    )
