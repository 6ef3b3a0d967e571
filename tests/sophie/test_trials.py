"""Prompt trials (sophie/trials.py): the arm is stable per lead and near the share, one trial per dataset,
the agent reads the arm's version through agent_inputs, and the comparison's statistics."""

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from campaigns.models import Conversation
from leads.models import Dataset, Lead
from sophie.models import Prompt, PromptTrial
from sophie.prompts import prompt_default_create, prompt_for_dataset_create, prompt_go_live, prompt_sections_save
from sophie.selectors import agent_inputs
from sophie.trials import (
    CONTROL,
    TRIAL,
    TrialRefused,
    arm_for,
    trial_arm,
    trial_arm_store,
    trial_comparison,
    trial_promote,
    trial_start,
    trial_stop,
)
from tests.campaigns.helpers import campaign_dataset
from tests.sophie.test_performance import ai_text, text

AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def chain(alpha, owner):
    """A dataset with a live version of its own and a draft after it."""
    Prompt.objects.all().delete()
    prompt_default_create(at=AT)
    dataset = campaign_dataset(name="Trial", leads=40)
    live = prompt_go_live(prompt=prompt_for_dataset_create(dataset=dataset, actor=owner, at=AT), actor=owner, at=AT)
    draft = prompt_sections_save(base=live, contents={"tone": "Shorter, warmer."}, why="", actor=owner, at=AT)
    return dataset, live, draft


def test_a_lead_s_arm_is_stable_and_the_shares_come_out_near_the_setting():
    rng = random.Random(13)
    trial_id = uuid.UUID(int=rng.getrandbits(128))
    leads = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(10_000)]

    arms = [trial_arm(lead_id=lead, trial_id=trial_id, share_percent=20) for lead in leads]

    assert arms == [trial_arm(lead_id=lead, trial_id=trial_id, share_percent=20) for lead in leads]
    in_trial = arms.count(TRIAL)
    # Binomial(10000, 0.2): mean 2000, sd 40; within 3 sd.
    assert abs(in_trial - 2000) < 3 * 40, in_trial
    # Another trial shuffles leads independently: about 20% of the first trial's arm are in the second's too.
    other = uuid.UUID(int=rng.getrandbits(128))
    both = sum(
        1
        for lead, arm in zip(leads, arms, strict=True)
        if arm == TRIAL and trial_arm(lead_id=lead, trial_id=other, share_percent=20) == TRIAL
    )
    assert abs(both - 400) < 3 * 18, both


@pytest.mark.parametrize("share", [0, 100, -5, "abc", "", "50.5"])
def test_a_share_outside_1_to_99_is_refused_with_a_message(chain, owner, share):
    _, _, draft = chain

    with pytest.raises(TrialRefused, match="between 1 and 99"):
        trial_start(prompt=draft, share_percent=share, actor=owner, at=AT)

    assert not PromptTrial.objects.exists()


def test_one_trial_per_dataset_at_a_time(chain, owner):
    dataset, live, draft = chain
    other = prompt_sections_save(base=live, contents={"tone": "Other."}, why="", actor=owner, at=AT)
    trial = trial_start(prompt=draft, share_percent="20%", actor=owner, at=AT)
    assert (trial.share_percent, trial.control, trial.status) == (20, live, PromptTrial.Status.RUNNING)

    with pytest.raises(TrialRefused, match="already running"):
        trial_start(prompt=other, share_percent=30, actor=owner, at=AT)
    with pytest.raises(IntegrityError), transaction.atomic():
        PromptTrial.objects.create(dataset=dataset, candidate=other, control=live, share_percent=30, started_at=AT)

    trial_stop(trial=trial, actor=owner, at=AT)
    assert trial_start(prompt=other, share_percent=30, actor=owner, at=AT).candidate == other


def test_only_a_dataset_draft_goes_on_trial(chain, owner):
    dataset, live, _ = chain
    default_draft = prompt_sections_save(
        base=Prompt.objects.get(dataset=None, is_live=True), contents={"tone": "x"}, why="", actor=owner, at=AT
    )
    with pytest.raises(TrialRefused, match="one dataset"):
        trial_start(prompt=default_draft, share_percent=20, actor=owner, at=AT)
    with pytest.raises(TrialRefused, match="Only a draft"):
        trial_start(prompt=live, share_percent=20, actor=owner, at=AT)


def test_the_agent_reads_the_version_of_the_lead_s_arm(chain, owner):
    dataset, live, draft = chain
    trial = trial_start(prompt=draft, share_percent=50, actor=owner, at=AT)

    seen = set()
    for lead in Lead.objects.filter(dataset=dataset):
        inputs = agent_inputs(dataset=dataset, at=AT, lead=lead)
        expected = trial_arm(lead_id=lead.pk, trial_id=trial.pk, share_percent=50)
        assert inputs.arm == expected
        assert inputs.prompt == (draft if expected == TRIAL else live)
        seen.add(expected)
    assert seen == {TRIAL, CONTROL}  # 40 leads at 50%: both arms
    assert agent_inputs(dataset=dataset, at=AT).prompt == live  # no lead: the live version


def test_the_arm_is_stored_once_and_an_older_conversation_keeps_the_live_voice(chain, owner):
    dataset, live, draft = chain
    leads = list(Lead.objects.filter(dataset=dataset).order_by("phone_number"))
    old_lead = leads[0]
    old = Conversation.objects.create(lead=old_lead, dataset=dataset, started_at=AT)
    ai_text(live, old_lead, old, AT - timedelta(days=1))  # Sophie wrote before the trial began
    trial = trial_start(prompt=draft, share_percent=99, actor=owner, at=AT)

    assert arm_for(trial=trial, lead=old_lead) == CONTROL
    new_lead = next(
        lead for lead in leads[1:] if trial_arm(lead_id=lead.pk, trial_id=trial.pk, share_percent=99) == TRIAL
    )
    conversation = Conversation.objects.create(lead=new_lead, dataset=dataset, started_at=AT)

    assert trial_arm_store(lead=new_lead, prompt_used=live, at=AT) is None  # version and arm disagree: not kept
    assert trial_arm_store(lead=new_lead, prompt_used=draft, at=AT) == TRIAL
    conversation.refresh_from_db()
    assert (conversation.trial_id, conversation.trial_arm) == (trial.pk, TRIAL)

    # A stored arm wins over the hash, e.g. after the share changed in a new trial row.
    Conversation.objects.filter(pk=conversation.pk).update(trial_arm=CONTROL)
    assert arm_for(trial=trial, lead=new_lead) == CONTROL


def test_make_live_promotes_the_trial_and_another_go_live_stops_it(chain, owner):
    dataset, live, draft = chain
    trial = trial_start(prompt=draft, share_percent=20, actor=owner, at=AT)

    promoted = trial_promote(trial=trial, actor=owner, at=AT + timedelta(days=7))

    trial.refresh_from_db()
    assert promoted.pk == draft.pk and promoted.is_live
    assert (trial.status, trial.ended_by) == (PromptTrial.Status.PROMOTED, owner)
    with pytest.raises(TrialRefused, match="already ended"):
        trial_promote(trial=trial, actor=owner, at=AT)

    another = prompt_sections_save(base=promoted, contents={"tone": "v4"}, why="", actor=owner, at=AT)
    third = prompt_sections_save(base=promoted, contents={"tone": "v5"}, why="", actor=owner, at=AT)
    second = trial_start(prompt=another, share_percent=20, actor=owner, at=AT)
    prompt_go_live(prompt=third, actor=owner, at=AT)
    second.refresh_from_db()
    assert second.status == PromptTrial.Status.STOPPED and "went live instead" in second.end_reason


def test_a_trial_on_an_archived_dataset_is_refused(chain, owner):
    dataset, _, draft = chain
    Dataset.objects.filter(pk=dataset.pk).update(archived=True)
    draft.refresh_from_db()
    with pytest.raises(TrialRefused, match="archived"):
        trial_start(prompt=draft, share_percent=20, actor=owner, at=AT)


def _arm_conversations(dataset, trial, prompt, arm, *, replied: int, total: int, start: int):
    for n in range(total):
        lead = Lead.objects.create(dataset=dataset, first_name="T", phone_number=f"+4477009{start + n:05d}")
        conversation = Conversation.objects.create(
            lead=lead, dataset=dataset, started_at=AT, trial_id=trial.pk, trial_arm=arm
        )
        ai_text(prompt, lead, conversation, AT + timedelta(minutes=1))
        if n < replied:
            text(lead, conversation, "inbound", AT + timedelta(minutes=2), sentiment="neutral")


def test_the_comparison_says_when_a_difference_is_significant(chain, owner):
    dataset, live, draft = chain
    trial = trial_start(prompt=draft, share_percent=50, actor=owner, at=AT)
    _arm_conversations(dataset, trial, draft, TRIAL, replied=60, total=100, start=10_000)
    _arm_conversations(dataset, trial, live, CONTROL, replied=40, total=100, start=20_000)

    comparison = trial_comparison(trial=trial)

    reply = comparison.rates[0]
    assert (comparison.conversations_trial, comparison.conversations_control) == (100, 100)
    assert (reply.trial.successes, reply.trial.n, reply.control.successes, reply.control.n) == (60, 100, 40, 100)
    # pooled 0.5: z = 0.2 / sqrt(0.25 * 0.02) = 2.828, p = 0.0047
    assert round(reply.z, 3) == 2.828 and reply.significant and reply.better == TRIAL
    booking = comparison.rates[1]
    assert booking.enough and not booking.significant  # no bookings either side: no test


def test_sophie_writes_a_trial_lead_s_reply_with_the_trial_version_and_keeps_its_arm(
    alpha, owner, django_capture_on_commit_callbacks
):
    from sophie.models import AiReply
    from sophie.writing import reply_write
    from tests.sophie.test_writing import TUESDAY, _texted

    Prompt.objects.all().delete()
    prompt_default_create(at=AT)
    dataset = campaign_dataset(name="Writing", leads=1, ai_response_delay_seconds=0)
    live = prompt_go_live(prompt=prompt_for_dataset_create(dataset=dataset, actor=owner, at=AT), actor=owner, at=AT)
    draft = prompt_sections_save(base=live, contents={"tone": "Trial tone."}, why="", actor=owner, at=AT)
    lead = Lead.objects.get(dataset=dataset)
    trial = trial_start(prompt=draft, share_percent=99, actor=owner, at=AT)
    expected = trial_arm(lead_id=lead.pk, trial_id=trial.pk, share_percent=99)
    planned = _texted(lead, "yes how much is it", django_capture_on_commit_callbacks)

    reply_write(message_id=planned.pk, at=TUESDAY + timedelta(seconds=1))

    record = AiReply.objects.get(message=planned)
    conversation = Conversation.objects.get(lead=lead)
    assert record.prompt == (draft if expected == TRIAL else live)
    assert (conversation.trial_id, conversation.trial_arm) == (trial.pk, expected)


def test_a_trial_against_the_client_default_is_made_live_and_a_new_default_stops_it(alpha, owner):
    Prompt.objects.all().delete()
    default = prompt_default_create(at=AT)
    dataset = campaign_dataset(name="No own prompt", leads=0)
    first = prompt_for_dataset_create(dataset=dataset, actor=owner, at=AT)  # the dataset's first row: a draft
    second = prompt_for_dataset_create(dataset=dataset, actor=owner, at=AT)
    trial = trial_start(prompt=first, share_percent=30, actor=owner, at=AT)
    assert trial.control == default

    assert trial_promote(trial=trial, actor=owner, at=AT).pk == first.pk  # nothing of the dataset's was live

    other = trial_start(prompt=second, share_percent=30, actor=owner, at=AT)
    assert other.control == Prompt.objects.get(pk=first.pk)
    elsewhere = campaign_dataset(name="Also no own prompt", leads=0)
    on_default = trial_start(
        prompt=prompt_for_dataset_create(dataset=elsewhere, actor=owner, at=AT), share_percent=30, actor=owner, at=AT
    )
    new_default = prompt_sections_save(base=default, contents={"tone": "New default."}, why="", actor=owner, at=AT)
    prompt_go_live(prompt=new_default, actor=owner, at=AT)
    other.refresh_from_db()
    on_default.refresh_from_db()
    assert other.status == PromptTrial.Status.RUNNING  # its control is the dataset's own row, not the default
    assert on_default.status == PromptTrial.Status.STOPPED and "client default changed" in on_default.end_reason
