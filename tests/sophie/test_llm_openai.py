"""The openai backend against a local fake server, with the real openai SDK doing the talking."""

import socket
import time

import pytest

from sophie.llm import backend_get
from sophie.llm.base import LLMError
from sophie.llm.contract import REPLY_SCHEMA
from sophie.llm.openai_chat import OpenAIBackend
from tests.fakes.llm_server import DEFAULT_ANSWER, LONG_TEXT
from tests.sophie.llm_context import LINK, M1, context_for

PATH = "/v1/chat/completions"


@pytest.fixture
def backend(fake_llm, settings) -> OpenAIBackend:
    settings.DBR_LLM_BACKEND = "openai"
    settings.DBR_LLM_BASE_URL = fake_llm.openai_base_url
    return backend_get()


def _failure(backend, fake_llm, kind: str, **options) -> str:
    fake_llm.answer_next(kind, **options)
    with pytest.raises(LLMError) as raised:
        backend.reply(context_for("yes still interested"))
    assert [request.path for request in fake_llm.requests] == [PATH]  # max_retries=0: exactly one request
    return raised.value.reason


def test_it_sends_the_prompt_lessons_thread_and_strict_schema_and_reads_the_answer(backend, fake_llm):
    context = context_for("yes still interested")

    draft = backend.reply(context)

    assert (draft.action, draft.text, draft.status, draft.sentiment) == (
        "send", DEFAULT_ANSWER["text"], "HOT", "positive",
    )  # fmt: skip
    assert draft.reason == "says they are interested"
    (request,) = fake_llm.requests
    assert request.path == PATH
    assert request.headers["authorization"] == "Bearer test-key"
    body = request.body
    assert body["model"] == "test-model"
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "strict": True, "schema": REPLY_SCHEMA},
    }
    system, *turns = body["messages"]
    assert system["role"] == "system"
    assert context.sections["context"] in system["content"]
    assert "Never call solar free, fully funded or government-backed" in system["content"]  # a never-rule
    assert '"up to"' in system["content"]  # a blacklisted word
    assert LINK in system["content"]
    assert "Sarah" in system["content"]
    assert turns == [
        {"role": "user", "content": "(The conversation starts with our first text to the lead.)"},
        {"role": "assistant", "content": M1},
        {"role": "user", "content": "yes still interested"},
    ]


def test_it_accepts_json_in_a_fence(backend, fake_llm):
    fake_llm.answer_next("fenced")
    assert backend.reply(context_for("yes")).text == DEFAULT_ANSWER["text"]


def test_it_keeps_only_lesson_ids_the_context_held(backend, fake_llm):
    fake_llm.answer_next("good", answer={"lessons_used": ["3", "3", "999"], "action": "handoff", "text": ""})
    draft = backend.reply(context_for("is there a grant?"))
    assert (draft.action, draft.text, draft.lessons_used) == ("handoff", "", ("3",))


def test_it_tells_the_model_why_the_first_draft_was_rejected(backend, fake_llm):
    backend.reply(context_for("yes", retry_because='contains the blacklisted word "free".'))
    assert 'contains the blacklisted word "free".' in fake_llm.requests[0].body["messages"][0]["content"]


def test_a_server_error_is_one_request_and_a_reason(backend, fake_llm):
    assert _failure(backend, fake_llm, "500") == "model provider server error (HTTP 500): Internal server error"


def test_rate_limiting_is_one_request_and_a_reason(backend, fake_llm):
    assert _failure(backend, fake_llm, "429") == "the model provider is rate limiting us (HTTP 429)"


def test_it_gives_up_after_the_timeout(backend, fake_llm):
    started = time.monotonic()
    assert _failure(backend, fake_llm, "hang", seconds=5) == "the model did not answer within 1 s"
    assert time.monotonic() - started < 3


def test_an_unreachable_server_is_a_connection_error(settings, fake_llm):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.DBR_LLM_BASE_URL = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(LLMError, match="could not reach the model server"):
        backend_get("openai").reply(context_for("yes"))


def test_a_refusal_is_a_failure(backend, fake_llm):
    assert _failure(backend, fake_llm, "refusal") == "the model refused: I can't help with that."


def test_an_empty_answer_is_a_failure(backend, fake_llm):
    assert _failure(backend, fake_llm, "empty") == "empty answer from the model"


def test_prose_instead_of_json_is_a_failure(backend, fake_llm):
    assert _failure(backend, fake_llm, "prose").startswith("the model answered in prose instead of JSON: Sure!")


def test_malformed_json_is_a_failure(backend, fake_llm):
    assert _failure(backend, fake_llm, "malformed").startswith("the model's JSON is malformed")


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"action": "maybe"}, "the model's action 'maybe' is not send or handoff"),
        ({"status": "VERY HOT"}, "the model's status 'VERY HOT' is not one of HOT, WARM, COLD, REMOVED, UNCLEAR"),
        ({"sentiment": "happy"}, "the model's sentiment 'happy' is not one of positive, neutral, negative"),
        ({"text": 42}, "the model's text is not a string"),
        ({"text": "  "}, "the model chose to send an empty text"),
        ({"lessons_used": "3"}, "the model's lessons_used is not a list of lesson ids"),
    ],
)
def test_invalid_fields_are_a_failure(backend, fake_llm, answer, reason):
    assert _failure(backend, fake_llm, "good", answer=answer) == reason


def test_missing_fields_are_a_failure(backend, fake_llm):
    fake_llm.answer_next("good", exact={"status": "HOT", "sentiment": "positive"})  # only a refinement's fields
    with pytest.raises(LLMError, match="lacks action, text, reason, lessons_used"):
        backend.reply(context_for("yes"))


def test_a_long_text_comes_back_whole_for_the_guardrails_to_judge(backend, fake_llm):
    fake_llm.answer_next("long")
    assert backend.reply(context_for("yes")).text == LONG_TEXT


def test_it_refines_an_unclear_reply(backend, fake_llm):
    fake_llm.answer_next("good", exact={"status": "WARM", "sentiment": "neutral"})
    assert backend.refine("hmm maybe, depends", {"intent": "ambiguous", "reason": "no rule matched"}) == {
        "status": "WARM",
        "sentiment": "neutral",
    }
    (request,) = fake_llm.requests
    assert request.body["response_format"]["json_schema"]["name"] == "classification"
    assert request.body["messages"][-1] == {"role": "user", "content": "hmm maybe, depends"}


@pytest.mark.parametrize("kind", ["500", "429", "hang", "prose", "malformed", "refusal", "empty"])
def test_refining_never_raises(backend, fake_llm, kind):
    fake_llm.answer_next(kind, seconds=3)
    assert backend.refine("hmm", {"intent": "ambiguous"}) is None


def test_refining_never_removes_a_lead(backend, fake_llm):
    fake_llm.answer_next("good", exact={"status": "REMOVED", "sentiment": "negative"})
    assert backend.refine("hmm", {"intent": "ambiguous"}) is None
