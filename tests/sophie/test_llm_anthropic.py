"""The anthropic backend against a local fake server, with the real anthropic SDK doing the talking."""

import time

import pytest

from sophie.llm import backend_get
from sophie.llm.anthropic_messages import AnthropicBackend
from sophie.llm.base import LLMError
from sophie.llm.contract import REFINE_SCHEMA, REPLY_SCHEMA
from tests.fakes.llm_server import DEFAULT_ANSWER, LONG_TEXT
from tests.sophie.llm_context import LINK, M1, context_for

PATH = "/v1/messages"


@pytest.fixture
def backend(fake_llm, settings) -> AnthropicBackend:
    settings.DBR_LLM_BACKEND = "anthropic"
    settings.DBR_LLM_BASE_URL = fake_llm.base_url
    return backend_get()


def _failure(backend, fake_llm, kind: str, **options) -> str:
    fake_llm.answer_next(kind, **options)
    with pytest.raises(LLMError) as raised:
        backend.reply(context_for("yes still interested"))
    assert [request.path for request in fake_llm.requests] == [PATH]  # max_retries=0: exactly one request
    return raised.value.reason


def test_it_forces_the_reply_tool_with_the_prompt_lessons_and_thread_and_reads_its_input(backend, fake_llm):
    context = context_for("yes still interested")

    draft = backend.reply(context)

    assert (draft.action, draft.text, draft.status, draft.sentiment) == (
        "send", DEFAULT_ANSWER["text"], "HOT", "positive",
    )  # fmt: skip
    (request,) = fake_llm.requests
    assert request.path == PATH
    assert request.headers["authorization"] == "Bearer test-key"  # this SDK sends the key as a bearer token
    body = request.body
    assert body["model"] == "test-model"
    assert body["tool_choice"] == {"type": "tool", "name": "reply"}
    (tool,) = body["tools"]
    assert (tool["name"], tool["input_schema"]) == ("reply", REPLY_SCHEMA)
    assert context.sections["boundaries"] in body["system"]
    assert "Never promise grant eligibility" in body["system"]  # a never-rule
    assert '"hurry"' in body["system"]  # a blacklisted word
    assert LINK in body["system"]
    assert body["messages"] == [
        {"role": "user", "content": "(The conversation starts with our first text to the lead.)"},
        {"role": "assistant", "content": M1},
        {"role": "user", "content": "yes still interested"},
    ]


def test_it_joins_a_burst_into_one_turn(backend, fake_llm):
    backend.reply(context_for("yes", "still interested", "how much is it?"))
    assert fake_llm.requests[0].body["messages"][-1] == {
        "role": "user",
        "content": "yes\nstill interested\nhow much is it?",
    }


def test_a_hand_off_with_a_polite_line_is_a_hand_off(backend, fake_llm):
    fake_llm.answer_next("good", answer={"action": "handoff", "text": "I'll ask one of the team to check."})
    draft = backend.reply(context_for("is there a grant?"))
    assert (draft.action, draft.text) == ("handoff", "I'll ask one of the team to check.")


def test_a_server_error_is_one_request_and_a_reason(backend, fake_llm):
    assert _failure(backend, fake_llm, "500") == "model provider server error (HTTP 500): Internal server error"


def test_rate_limiting_is_one_request_and_a_reason(backend, fake_llm):
    assert _failure(backend, fake_llm, "429") == "the model provider is rate limiting us (HTTP 429)"


def test_it_gives_up_after_the_timeout(backend, fake_llm):
    started = time.monotonic()
    assert _failure(backend, fake_llm, "hang", seconds=5) == "the model did not answer within 1 s"
    assert time.monotonic() - started < 3


def test_a_refusal_is_a_failure(backend, fake_llm):
    assert _failure(backend, fake_llm, "refusal") == "the model refused to answer"


def test_an_empty_answer_is_a_failure(backend, fake_llm):
    assert _failure(backend, fake_llm, "empty") == "empty answer from the model"


def test_prose_instead_of_the_tool_call_is_a_failure(backend, fake_llm):
    reason = _failure(backend, fake_llm, "prose")
    assert reason.startswith("the model answered in prose instead of calling the reply tool: Sure!")


def test_invalid_tool_input_is_a_failure(backend, fake_llm):
    assert _failure(backend, fake_llm, "invalid") == "the model's action 'maybe' is not send or handoff"


def test_a_tool_input_missing_fields_is_a_failure(backend, fake_llm):
    fake_llm.answer_next("good", exact={"action": "send", "text": "Hi"})
    with pytest.raises(LLMError, match="lacks status, sentiment, reason, lessons_used"):
        backend.reply(context_for("yes"))


def test_a_long_text_comes_back_whole_for_the_guardrails_to_judge(backend, fake_llm):
    fake_llm.answer_next("long")
    assert backend.reply(context_for("yes")).text == LONG_TEXT


def test_it_refines_an_unclear_reply_with_its_own_tool(backend, fake_llm):
    fake_llm.answer_next("good", exact={"status": "COLD", "sentiment": "negative"})
    assert backend.refine("meh whatever", {"intent": "ambiguous"}) == {"status": "COLD", "sentiment": "negative"}
    body = fake_llm.requests[0].body
    assert body["tool_choice"] == {"type": "tool", "name": "classification"}
    assert body["tools"][0]["input_schema"] == REFINE_SCHEMA


@pytest.mark.parametrize("kind", ["500", "429", "hang", "prose", "refusal", "empty"])
def test_refining_never_raises(backend, fake_llm, kind):
    fake_llm.answer_next(kind, seconds=3)
    assert backend.refine("hmm", {"intent": "ambiguous"}) is None


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "SUPER HOT", "sentiment": "positive"},
        {"status": "WARM"},
        {"status": "REMOVED", "sentiment": "negative"},
    ],
)
def test_an_invalid_refinement_is_none(backend, fake_llm, answer):
    fake_llm.answer_next("good", exact=answer)
    assert backend.refine("hmm", {"intent": "ambiguous"}) is None
