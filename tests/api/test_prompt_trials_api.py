"""Prompt trials and a version's figures over the API (sophie/api.py): through sophie.trials and
sophie.performance as the Prompts pages, `edit_prompts` for writes, trials seen through their dataset,
refusals 409 `trial_refused`, bad input 400 with nothing changed."""

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.models import Conversation
from clients.models import User
from leads.models import Dataset, Lead
from sophie.models import Prompt, PromptTrial
from sophie.prompts import prompt_default_create, prompt_for_dataset_create, prompt_go_live, prompt_sections_save
from sophie.trials import CONTROL, TRIAL, trial_comparison, trial_start
from tests.api.conftest import Api, token_for
from tests.sophie.test_performance import ai_text, text

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


class Chains:
    def __init__(self, owner, world):
        Prompt.objects.all().delete()
        self.default = prompt_default_create(at=AT)
        self.live, self.draft = {}, {}
        for dataset in (world.north, world.south):
            live = prompt_for_dataset_create(dataset=dataset, actor=owner, at=AT)
            self.live[dataset.name] = prompt_go_live(prompt=live, actor=owner, at=AT)
            self.draft[dataset.name] = prompt_sections_save(
                base=self.live[dataset.name], contents={"tone": "Warmer."}, why="", actor=owner, at=AT
            )


@pytest.fixture
def chains(owner, world) -> Chains:
    return Chains(owner, world)


@pytest.fixture
def trials(chains, owner):
    """A running trial in North and in South."""
    return {
        name: trial_start(prompt=chains.draft[name], share_percent=20, actor=owner, at=AT)
        for name in ("North", "South")
    }


@pytest.fixture
def north_manager(alpha, world, make_user) -> User:
    """May edit prompts, but sees the North dataset only."""
    return make_user(alpha, "north-manager@alpha.example", User.Role.MANAGER, allowed_dataset_ids=[world.north.pk])


def _arm(dataset, trial, prompt, arm, *, replied: int, total: int, start: int):
    for n in range(total):
        lead = Lead.objects.create(dataset=dataset, first_name="T", phone_number=f"+4477008{start + n:05d}")
        conversation = Conversation.objects.create(
            lead=lead, dataset=dataset, started_at=AT, trial_id=trial.pk, trial_arm=arm
        )
        ai_text(prompt, lead, conversation, AT + timedelta(minutes=1))
        if n < replied:
            text(lead, conversation, "inbound", AT + timedelta(minutes=2), sentiment="positive")


# --- Start ------------------------------------------------------------------------------------------------


def test_the_owner_puts_a_draft_on_trial_against_the_live_version(chains, world, owner, as_owner):
    draft = chains.draft["North"]

    started = as_owner.post(f"/api/prompts/{draft.pk}/trial/", {"share_percent": 25})

    assert started.status_code == 201, started.content
    body = started.json()
    trial = PromptTrial.objects.get()
    assert body["id"] == str(trial.pk) and body["status"] == "running"
    assert (trial.candidate, trial.control, trial.share_percent, trial.started_by) == (
        draft,
        chains.live["North"],
        25,
        owner,
    )
    assert (body["candidate_version"], body["control_version"]) == (draft.version, chains.live["North"].version)
    assert body["comparison"]["conversations_trial"] == 0 and len(body["comparison"]["rates"]) == 2


def test_the_page_s_share_validation_is_a_400_on_share_percent_and_nothing_starts(chains, as_owner):
    draft = chains.draft["North"]
    for share in (0, 100, -5, "abc", 50.5, True, None, [20]):
        answer = as_owner.post(f"/api/prompts/{draft.pk}/trial/", {"share_percent": share})
        assert answer.status_code == 400, (share, answer.content)
        error = answer.json()["error"]
        assert error["code"] == "invalid" and "share_percent" in error["fields"], share
    missing = as_owner.post(f"/api/prompts/{draft.pk}/trial/", {})
    assert missing.status_code == 400 and "share_percent" in missing.json()["error"]["fields"]
    not_json_object = as_owner.post(f"/api/prompts/{draft.pk}/trial/", [20])
    assert not_json_object.status_code == 400
    assert as_owner.post("/api/prompts/not-an-id/trial/", {"share_percent": 20}).status_code == 400
    assert not PromptTrial.objects.exists()
    # The page's own spelling is accepted, as the page accepts it.
    assert as_owner.post(f"/api/prompts/{draft.pk}/trial/", {"share_percent": "30%"}).json()["share_percent"] == 30


def test_the_service_s_refusals_are_409_trial_refused_with_the_reason(chains, trials, as_owner):
    north_live, other = chains.live["North"], chains.draft["North"]
    second_draft = prompt_sections_save(base=north_live, contents={"tone": "Other."}, why="", actor=None, at=AT)

    running = as_owner.post(f"/api/prompts/{second_draft.pk}/trial/", {"share_percent": 20})
    live = as_owner.post(f"/api/prompts/{north_live.pk}/trial/", {"share_percent": 20})
    default = as_owner.post(f"/api/prompts/{chains.default.pk}/trial/", {"share_percent": 20})

    assert running.status_code == 409 and running.json()["error"]["code"] == "trial_refused"
    assert "already running" in running.json()["error"]["message"]
    assert live.status_code == 409 and "Only a draft" in live.json()["error"]["message"]
    assert default.status_code == 409 and "one dataset" in default.json()["error"]["message"]
    assert PromptTrial.objects.count() == 2 and other.trials.count() == 1


def test_an_archived_dataset_s_draft_is_refused(chains, world, as_owner):
    Dataset.objects.filter(pk=world.south.pk).update(archived=True)
    refused = as_owner.post(f"/api/prompts/{chains.draft['South'].pk}/trial/", {"share_percent": 20})
    assert refused.status_code == 409 and "archived" in refused.json()["error"]["message"]
    assert not PromptTrial.objects.exists()


# --- Read -------------------------------------------------------------------------------------------------


def test_list_filters_by_status_dataset_and_prompt(chains, trials, world, owner, as_owner):
    from sophie.trials import trial_stop

    trial_stop(trial=trials["South"], actor=owner, at=AT + timedelta(hours=1), reason="enough")

    def ids(query=""):
        answer = as_owner.get(f"/api/prompt-trials/{query}")
        assert answer.status_code == 200, answer.content
        return {row["id"] for row in answer.json()["results"]}

    north, south = str(trials["North"].pk), str(trials["South"].pk)
    assert ids() == {north, south}
    assert ids("?status=running") == {north}
    assert ids("?status=ended") == ids("?status=stopped") == {south}
    assert ids("?status=promoted") == set()
    assert ids(f"?dataset={world.north.pk}") == {north}
    assert ids(f"?prompt={chains.live['South'].pk}") == ids(f"?prompt={chains.draft['South'].pk}") == {south}
    for bad in ("?status=weird", "?dataset=x", "?prompt=1", "?limit=0"):
        assert as_owner.get(f"/api/prompt-trials/{bad}").status_code == 400, bad


def test_a_trial_carries_the_page_s_comparison(chains, trials, world, as_owner):
    trial = trials["North"]
    _arm(world.north, trial, chains.draft["North"], TRIAL, replied=24, total=32, start=10_000)
    _arm(world.north, trial, chains.live["North"], CONTROL, replied=8, total=32, start=20_000)

    body = as_owner.get(f"/api/prompt-trials/{trial.pk}/").json()

    expected = trial_comparison(trial=trial)
    comparison = body["comparison"]
    assert (comparison["conversations_trial"], comparison["conversations_control"]) == (32, 32)
    reply = comparison["rates"][0]
    assert reply["label"] == expected.rates[0].label == "Reply rate after an AI text"
    assert (reply["trial"]["successes"], reply["trial"]["n"], reply["control"]["successes"]) == (24, 32, 8)
    low, high = expected.rates[0].trial.interval
    assert (reply["trial"]["low"], reply["trial"]["high"]) == (low, high) and low < 0.75 < high
    assert reply["difference"] == pytest.approx(0.5)
    assert reply["z"] == pytest.approx(expected.rates[0].z) and reply["p_value"] < 0.05
    assert reply["enough"] and reply["significant"] and reply["better"] == "trial"
    booking = comparison["rates"][1]
    assert booking["trial"]["successes"] == 0 and not booking["significant"] and booking["better"] == ""
    assert comparison["minimum_sample"] == 30


def test_a_version_s_performance_is_the_page_s_figures(chains, trials, world, as_owner):
    from sophie.performance import prompt_performance

    draft = chains.draft["North"]
    _arm(world.north, trials["North"], draft, TRIAL, replied=3, total=4, start=30_000)

    answer = as_owner.get(f"/api/prompts/{draft.pk}/performance/")

    assert answer.status_code == 200
    assert answer.json() == prompt_performance(prompt=draft).as_dict()
    figures = answer.json()
    assert figures["conversations"] == 4 and figures["reply_rate"]["successes"] == 3
    assert figures["avg_sentiment"] == 1.0 and figures["performance_vs_previous"] is None  # under 30 texts
    assert as_owner.get("/api/prompts/nope/performance/").status_code == 400


def test_performance_history_is_the_page_s_chart_oldest_first(chains, world, owner, as_owner, as_rep):
    from sophie.performance import prompt_performance

    live, draft = chains.live["North"], chains.draft["North"]
    other_draft = prompt_sections_save(base=live, contents={"tone": "Other."}, why="", actor=owner, at=AT)

    of_draft = as_owner.get(f"/api/prompts/{draft.pk}/performance-history/")
    of_live = as_rep.get(f"/api/prompts/{live.pk}/performance-history/")

    assert of_draft.status_code == 200
    # The draft itself and the published versions; other drafts are not charted.
    assert [row["prompt_id"] for row in of_draft.json()] == [str(live.pk), str(draft.pk)]
    assert of_draft.json()[1] == prompt_performance(prompt=draft).as_dict()
    assert [row["prompt_id"] for row in of_live.json()] == [str(live.pk)]
    assert str(other_draft.pk) not in {row["prompt_id"] for row in of_draft.json()}
    assert as_rep.get(f"/api/prompts/{chains.live['South'].pk}/performance-history/").status_code == 404
    assert as_owner.get("/api/prompts/x/performance-history/").status_code == 400


# --- Stop and promote ------------------------------------------------------------------------------------


def test_stop_ends_the_trial_with_the_reason_and_a_second_stop_is_409(trials, owner, as_owner):
    trial = trials["North"]

    stopped = as_owner.post(f"/api/prompt-trials/{trial.pk}/stop/", {"reason": "Too many opt-outs"})
    again = as_owner.post(f"/api/prompt-trials/{trial.pk}/stop/", {})

    trial.refresh_from_db()
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    assert (trial.status, trial.end_reason, trial.ended_by) == ("stopped", "Too many opt-outs", owner)
    assert again.status_code == 409 and again.json()["error"] == {
        "code": "trial_refused",
        "message": "This trial has already ended.",
        "fields": {},
    }


def test_stop_refuses_a_reason_that_is_not_text(trials, as_owner):
    trial = trials["North"]
    for body in ({"reason": 5}, {"reason": ["x"]}, {"reason": "x" * 1001}):
        answer = as_owner.post(f"/api/prompt-trials/{trial.pk}/stop/", body)
        assert answer.status_code == 400 and "reason" in answer.json()["error"]["fields"], body
    assert as_owner.post("/api/prompt-trials/123/stop/", {}).status_code == 400
    trial.refresh_from_db()
    assert trial.status == "running"


def test_promote_makes_the_trial_s_version_live_and_closes_the_trial(chains, trials, as_owner):
    trial = trials["North"]

    promoted = as_owner.post(f"/api/prompt-trials/{trial.pk}/promote/")
    again = as_owner.post(f"/api/prompt-trials/{trial.pk}/promote/")

    trial.refresh_from_db()
    assert promoted.status_code == 200 and promoted.json()["status"] == "promoted"
    assert trial.status == "promoted"
    assert Prompt.objects.get(dataset=trial.dataset, is_live=True) == chains.draft["North"]
    assert again.status_code == 409 and again.json()["error"]["code"] == "trial_refused"


def test_promote_is_refused_when_the_live_version_changed_since_the_trial_began(chains, trials, owner, as_owner):
    trial = trials["North"]
    other = prompt_sections_save(base=chains.live["North"], contents={"tone": "Other."}, why="", actor=owner, at=AT)
    prompt_go_live(prompt=other, actor=owner, at=AT + timedelta(hours=1))  # stops the trial too

    refused = as_owner.post(f"/api/prompt-trials/{trial.pk}/promote/")

    assert refused.status_code == 409 and refused.json()["error"]["code"] == "trial_refused"
    assert Prompt.objects.get(dataset=trial.dataset, is_live=True) == other


# --- Who may ----------------------------------------------------------------------------------------------


def test_a_rep_restricted_to_north_reads_north_s_trials_only_and_may_not_change_them(trials, chains, as_rep):
    north, south = trials["North"], trials["South"]

    listed = {row["id"] for row in as_rep.get("/api/prompt-trials/").json()["results"]}

    assert listed == {str(north.pk)}
    assert as_rep.get(f"/api/prompt-trials/{north.pk}/").status_code == 200
    assert as_rep.get(f"/api/prompt-trials/{south.pk}/").status_code == 404
    assert as_rep.get(f"/api/prompts/{chains.draft['North'].pk}/performance/").status_code == 200
    assert as_rep.get(f"/api/prompts/{chains.draft['South'].pk}/performance/").status_code == 404
    assert as_rep.post(f"/api/prompt-trials/{north.pk}/stop/", {}).status_code == 403
    assert as_rep.post(f"/api/prompt-trials/{north.pk}/promote/").status_code == 403
    assert PromptTrial.objects.filter(status="running").count() == 2


def test_a_manager_restricted_to_north_changes_north_s_trials_and_cannot_reach_south_s(
    trials, chains, north_manager, world
):
    api = Api(token_for(north_manager))
    north, south = trials["North"], trials["South"]

    assert api.post(f"/api/prompt-trials/{south.pk}/stop/", {}).status_code == 404
    assert api.post(f"/api/prompt-trials/{south.pk}/promote/").status_code == 404
    assert api.post(f"/api/prompt-trials/{north.pk}/stop/", {"reason": "mine"}).status_code == 200
    assert api.post(f"/api/prompts/{chains.draft['South'].pk}/trial/", {"share_percent": 20}).status_code == 404
    assert api.post(f"/api/prompts/{chains.draft['North'].pk}/trial/", {"share_percent": 20}).status_code == 201
    south.refresh_from_db()
    assert south.status == "running"
    assert PromptTrial.objects.filter(dataset=world.north, status="running", started_by=north_manager).count() == 1


def test_a_read_only_user_reads_but_may_not_start_stop_or_promote(trials, chains, as_reader):
    north = trials["North"]
    other = prompt_sections_save(base=chains.live["North"], contents={"tone": "x"}, why="", actor=None, at=AT)

    assert as_reader.get(f"/api/prompt-trials/{north.pk}/").status_code == 200
    assert as_reader.get(f"/api/prompts/{other.pk}/performance/").status_code == 200
    assert as_reader.post(f"/api/prompt-trials/{north.pk}/stop/", {}).status_code == 403
    assert as_reader.post(f"/api/prompt-trials/{north.pk}/promote/").status_code == 403
    refused = as_reader.post(f"/api/prompts/{other.pk}/trial/", {"share_percent": 20})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    north.refresh_from_db()
    assert north.status == "running" and PromptTrial.objects.count() == 2


def test_a_suspended_user_and_an_outsider_get_nothing(trials, chains, as_suspended, as_outsider):
    north = trials["North"]
    calls = [
        ("get", "/api/prompt-trials/", None),
        ("get", f"/api/prompt-trials/{north.pk}/", None),
        ("get", f"/api/prompts/{chains.draft['North'].pk}/performance/", None),
        ("get", f"/api/prompts/{chains.draft['North'].pk}/performance-history/", None),
        ("post", f"/api/prompt-trials/{north.pk}/stop/", {}),
        ("post", f"/api/prompt-trials/{north.pk}/promote/", {}),
        ("post", f"/api/prompts/{chains.draft['South'].pk}/trial/", {"share_percent": 20}),
    ]
    for api, expected in ((as_suspended, 401), (as_outsider, 403)):
        for method, path, body in calls:
            answer = getattr(api, method)(path, body)
            assert answer.status_code == expected, (expected, method, path, answer.content)
    north.refresh_from_db()
    assert north.status == "running" and PromptTrial.objects.count() == 2
