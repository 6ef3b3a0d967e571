"""Start-up checks (`manage.py check`) for the LLM backend, so a bad setting fails at deploy, not at the first reply."""

from django.conf import settings
from django.core.checks import CheckMessage, Error

from sophie.llm import BACKENDS, MODEL_BACKENDS


def llm_backend_check(app_configs, **kwargs) -> list[CheckMessage]:
    backend = settings.DBR_LLM_BACKEND
    if backend not in BACKENDS:
        return [
            Error(
                f"DBR_LLM_BACKEND={backend!r} is not a known LLM backend.",
                hint=f"Set DBR_LLM_BACKEND to one of: {', '.join(BACKENDS)}.",
                id="sophie.E001",
            )
        ]
    if backend in MODEL_BACKENDS and not settings.DBR_LLM_MODEL:
        return [
            Error(
                f"DBR_LLM_BACKEND={backend} but DBR_LLM_MODEL is not set.",
                hint="Set DBR_LLM_MODEL to the model's name on the server (docs/llm.md), or use DBR_LLM_BACKEND=rules.",
                id="sophie.E002",
            )
        ]
    return []
