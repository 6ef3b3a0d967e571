"""The offline reply classifier, its scores on the labelled replies, and `manage.py classify_replies`."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.classify_bench import GOALS, load_labelled, meets, scores
from leads.models import Lead
from sophie.classify import INTENTS, REMOVED, SENTIMENTS, STATUSES, UNCLEAR, Classification, classify

REPO = Path(__file__).resolve().parents[2]
KEYS = ["text", "opt_out", "status", "intent", "sentiment", "confidence", "reason"]
CLOSED_PORT_DATABASE = "postgres://postgres@127.0.0.1:9/nowhere"

# One reply per row of the intent table, in words the labelled set does not use.
INTENT_ROWS = [
    ("opt_out", "REMOVED", "please take my number off your list"),
    ("hostile", "REMOVED", "how dare you message me, clear off"),
    ("wrong_number", "REMOVED", "you've got the wrong number, no Gareth here"),
    ("interested", "HOT", "yeah still interested, what happens next?"),
    ("wants_call", "HOT", "give me a ring tmrw after 5"),
    ("price", "WARM", "ballpark cost for a 4 bed?"),
    ("grant", "WARM", "is there a grant for this? I'm a pensioner"),
    ("product_question", "WARM", "do you fit batteries as well?"),
    ("who_is_this", "WARM", "sorry, who is this?"),
    ("later", "WARM", "not right now, maybe after Christmas"),
    ("already_has", "COLD", "already got panels thanks"),
    ("not_eligible", "COLD", "we rent so can't"),
    ("decline", "COLD", "no thanks, not interested"),
    ("ambiguous", "UNCLEAR", "ok"),
    ("auto_reply", "UNCLEAR", "Auto reply: I'm out of the office until Monday."),
]


@pytest.mark.parametrize("intent, status, text", INTENT_ROWS)
def test_it_classifies_each_row_of_the_intent_table(intent, status, text):
    result = classify(text)
    assert (result.intent, result.status) == (intent, status), result.reason
    assert result.opt_out == (status == REMOVED)


def test_the_intent_table_covers_every_intent():
    assert {intent for intent, _, _ in INTENT_ROWS} == set(INTENTS)


@pytest.mark.parametrize(
    "text, intent, status",
    [
        ("I'm not Dave", "wrong_number", "REMOVED"),
        ("call me after 5", "wants_call", "HOT"),
        ("how much for a 3 bed semi", "price", "WARM"),
        ("already got panels", "already_has", "COLD"),
        ("who is this?", "who_is_this", "WARM"),
        ("not now maybe in spring", "later", "WARM"),
        ("yeah right, like I'd pay for that", "decline", "COLD"),
        ("ya go on then pls", "interested", "HOT"),
        ("gd timing, ring me tmrw", "wants_call", "HOT"),
        ("cba", "decline", "COLD"),
        ("yes intrested 😀", "interested", "HOT"),
        ("fuck off", "hostile", "REMOVED"),
        ("Don't stop, I'm interested", "interested", "HOT"),
        ("stop by whenever you like", "interested", "HOT"),
        ("please don't remove me, just call in March", "later", "WARM"),
    ],
)
def test_it_reads_slang_typos_emoji_and_sarcasm(text, intent, status):
    result = classify(text)
    assert (result.intent, result.status) == (intent, status), result.reason


def test_it_makes_a_request_for_another_channel_unclear_not_an_opt_out():
    result = classify("can you stop texting and email me instead")
    assert (result.opt_out, result.status) == (False, UNCLEAR)


def test_it_gives_mixed_signals_to_a_human_rather_than_guessing():
    result = classify("no thanks, who is this, how much, ring me")
    assert (result.status, result.intent) == (UNCLEAR, "ambiguous") and result.confidence < 0.5
    assert classify("yes how much").confidence < classify("yes please").confidence


def test_it_follows_the_opt_out_keyword_rule_whatever_else_the_text_says():
    result = classify("STOP!!")
    assert (result.opt_out, result.status, result.intent, result.confidence) == (True, REMOVED, "opt_out", 1.0)


def test_its_statuses_and_sentiments_map_onto_the_lead_fields():
    assert set(STATUSES) - {UNCLEAR} <= set(Lead.ContactStatus.values)
    assert {sentiment.upper() for sentiment in SENTIMENTS} <= set(Lead.Sentiment.values)


def test_it_is_a_frozen_dataclass_that_turns_into_a_dict():
    result = classify("yes please")
    assert isinstance(result, Classification)
    assert list(result.to_dict()) == KEYS[1:]
    with pytest.raises(AttributeError):
        result.status = "COLD"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_it_never_raises_and_always_answers_in_range(text):
    result = classify(text)
    assert list(result.to_dict()) == KEYS[1:]
    assert result.status in STATUSES and result.intent in INTENTS and result.sentiment in SENTIMENTS
    assert 0.0 <= result.confidence <= 1.0 and result.reason
    assert result.opt_out == (result.status == REMOVED)
    assert INTENTS[result.intent][0] == result.status


def test_it_opts_out_exactly_the_removed_replies_of_the_labelled_set():
    for reply in load_labelled():
        result = classify(reply.text)
        assert result.opt_out == (result.status == REMOVED), reply.text


def test_the_labelled_set_is_large_and_well_formed():
    replies = load_labelled()
    assert len(replies) >= 250
    assert {reply.status for reply in replies} <= set(STATUSES)
    assert {reply.intent for reply in replies} == set(INTENTS)
    assert all(reply.opt_out == (reply.status == REMOVED) for reply in replies)
    assert sum(reply.held_out for reply in replies) == len(replies) // 4


@pytest.mark.parametrize("part", ["all", "tuning", "held out"])
def test_the_scores_on_the_labelled_set_meet_the_goals(part):
    replies = load_labelled()
    chosen = {
        "all": replies,
        "tuning": [reply for reply in replies if not reply.held_out],
        "held out": [reply for reply in replies if reply.held_out],
    }[part]
    measured = scores(chosen)
    for name in GOALS:
        assert meets(name, measured[name]), f"{part}: {name} {measured[name]}"


def test_the_command_prints_one_json_object_per_line_empty_lines_included(tmp_path):
    # given
    replies = tmp_path / "replies.txt"
    replies.write_text("STOP\n\nhow much for a 3 bed semi\r\n  \nwho is this? 🤔\nlast line, no newline", "utf-8")
    out = io.StringIO()
    # when
    call_command("classify_replies", str(replies), stdout=out)
    # then
    lines = out.getvalue().splitlines()
    assert len(lines) == 6
    rows = [json.loads(line) for line in lines]
    assert all(list(row) == KEYS for row in rows)
    assert [row["text"] for row in rows] == [
        "STOP", "", "how much for a 3 bed semi", "  ", "who is this? 🤔", "last line, no newline",
    ]  # fmt: skip
    assert [row["status"] for row in rows] == ["REMOVED", "UNCLEAR", "WARM", "UNCLEAR", "WARM", "UNCLEAR"]
    assert rows[0]["opt_out"] is True and rows[1]["opt_out"] is False


def test_the_command_reads_stdin_and_needs_no_database():
    # given: a database URL nobody answers on, and an LLM backend the command must ignore
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dbr.settings",
        "DATABASE_URL": CLOSED_PORT_DATABASE,
        "DBR_LLM_BACKEND": "openai",
    }
    # when
    done = subprocess.run(
        [sys.executable, "manage.py", "classify_replies", "-"],
        input=b"yes please\n\nStop!!\nwrong number\n",
        cwd=REPO, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    # then
    assert done.returncode == 0, done.stderr.decode()
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [(row["text"], row["status"], row["opt_out"]) for row in rows] == [
        ("yes please", "HOT", False), ("", "UNCLEAR", False), ("Stop!!", "REMOVED", True),
        ("wrong number", "REMOVED", True),
    ]  # fmt: skip


def test_the_command_reads_stdin_when_no_file_is_given():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dbr.settings", "DATABASE_URL": CLOSED_PORT_DATABASE}
    done = subprocess.run(
        [sys.executable, "manage.py", "classify_replies"],
        input=b"who is this", cwd=REPO, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["intent"] == "who_is_this"
