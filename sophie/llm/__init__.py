"""Sophie's LLM backends: the only code in DBR that talks to LLM providers (docs/llm.md).

`backend_get()` returns the backend `DBR_LLM_BACKEND` names: `rules` (offline, the default),
`openai` (any OpenAI-compatible server) or `anthropic`. The SDKs are imported only when their
backend is asked for.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from sophie.llm.base import Backend

BACKENDS = ("rules", "openai", "anthropic")
MODEL_BACKENDS = ("openai", "anthropic")


def backend_get(name: str | None = None) -> Backend:
    """A backend built from the settings as they are now (tests change them per test)."""
    name = settings.DBR_LLM_BACKEND if name is None else name
    if name == "rules":
        from sophie.llm.rules import RulesBackend

        return RulesBackend()
    if name not in MODEL_BACKENDS:
        raise ImproperlyConfigured(
            f"DBR_LLM_BACKEND={name!r} is not an LLM backend; use one of: {', '.join(BACKENDS)}."
        )
    if not settings.DBR_LLM_MODEL:
        raise ImproperlyConfigured(f"DBR_LLM_BACKEND={name} needs DBR_LLM_MODEL (the model's name on the server).")
    options = {
        "model": settings.DBR_LLM_MODEL,
        "base_url": settings.DBR_LLM_BASE_URL,
        "api_key": settings.DBR_LLM_API_KEY,
        "timeout": float(settings.DBR_LLM_TIMEOUT_SECONDS),
    }
    if name == "openai":
        from sophie.llm.openai_chat import OpenAIBackend

        return OpenAIBackend(**options)
    from sophie.llm.anthropic_messages import AnthropicBackend

    return AnthropicBackend(**options)
