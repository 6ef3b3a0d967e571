"""With a model backend, a reply the rules left UNCLEAR may be refined; an opt-out never reaches the model."""

import pytest

from sophie.replies import reply_classify
from tests.fakes.llm_server import FakeLLM


@pytest.fixture
def model(settings):
    with FakeLLM() as fake:
        settings.DBR_LLM_BACKEND, settings.DBR_LLM_MODEL = "openai", "test-model"
        settings.DBR_LLM_BASE_URL, settings.DBR_LLM_TIMEOUT_SECONDS = fake.openai_base_url, 2
        yield fake


def test_an_unclear_reply_is_refined_by_the_model(model):
    model.answer_next("good", answer={"status": "WARM", "sentiment": "positive"})

    verdict = reply_classify("hmm maybe, depends")

    assert verdict.status == "WARM" and verdict.sentiment == "positive" and "refined" in verdict.reason
    assert len(model.requests) == 1


def test_an_opt_out_or_a_clear_reading_never_asks_the_model(model):
    for text in ("STOP", "remove me from your list", "yes please call me"):
        verdict = reply_classify(text)
        assert verdict.status in ("REMOVED", "HOT")
    assert model.requests == []


def test_the_model_can_never_remove_a_lead(model):
    model.answer_next("good", answer={"status": "REMOVED", "sentiment": "negative"})

    assert reply_classify("hmm maybe, depends").status == "UNCLEAR"


def test_a_failing_model_leaves_the_offline_reading(model):
    model.answer_next("500")

    assert reply_classify("hmm maybe, depends").status == "UNCLEAR"
