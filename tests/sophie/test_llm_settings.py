"""Choosing the LLM backend: `backend_get` and the start-up check."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from sophie.checks import llm_backend_check
from sophie.llm import backend_get
from sophie.llm.anthropic_messages import AnthropicBackend
from sophie.llm.openai_chat import OpenAIBackend


def test_it_builds_the_model_backends_from_the_settings(settings):
    settings.DBR_LLM_MODEL = "llama3.1:8b"
    settings.DBR_LLM_BASE_URL = "http://127.0.0.1:11434/v1"
    settings.DBR_LLM_API_KEY = ""
    settings.DBR_LLM_TIMEOUT_SECONDS = 7
    openai = backend_get("openai")
    assert isinstance(openai, OpenAIBackend)
    assert (openai.name, openai.model) == ("openai", "llama3.1:8b")
    assert str(openai.client.base_url) == "http://127.0.0.1:11434/v1/"
    assert (openai.client.max_retries, openai.client.timeout, openai.client.api_key) == (0, 7.0, "unused")
    settings.DBR_LLM_BACKEND = "anthropic"
    anthropic = backend_get()
    assert isinstance(anthropic, AnthropicBackend)
    assert (anthropic.client.max_retries, anthropic.client.timeout) == (0, 7.0)


def test_an_unknown_backend_is_refused_clearly(settings):
    settings.DBR_LLM_BACKEND = "gpt"
    with pytest.raises(ImproperlyConfigured, match="DBR_LLM_BACKEND='gpt' is not an LLM backend; use one of: rules"):
        backend_get()
    (error,) = llm_backend_check(None)
    assert error.id == "sophie.E001"


def test_a_model_backend_needs_a_model(settings):
    settings.DBR_LLM_BACKEND = "openai"
    settings.DBR_LLM_MODEL = ""
    with pytest.raises(ImproperlyConfigured, match="needs DBR_LLM_MODEL"):
        backend_get()
    (error,) = llm_backend_check(None)
    assert (error.id, error.msg) == ("sophie.E002", "DBR_LLM_BACKEND=openai but DBR_LLM_MODEL is not set.")
    settings.DBR_LLM_MODEL = "gpt-4.1-mini"
    assert llm_backend_check(None) == []


def test_the_rules_backend_needs_nothing(settings):
    settings.DBR_LLM_BACKEND = "rules"
    settings.DBR_LLM_MODEL = ""
    assert llm_backend_check(None) == []
