from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLM


@pytest.fixture
def fake_llm(settings) -> Iterator[FakeLLM]:
    """A fake LLM provider (both APIs) with the model settings pointing at it and a 1 s timeout; stopped at teardown."""
    fake = FakeLLM().start()
    settings.DBR_LLM_MODEL = "test-model"
    settings.DBR_LLM_API_KEY = "test-key"
    settings.DBR_LLM_TIMEOUT_SECONDS = 1
    try:
        yield fake
    finally:
        fake.stop()
