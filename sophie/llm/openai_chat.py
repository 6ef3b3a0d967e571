"""Sophie on any OpenAI-compatible chat completions server (OpenAI, Azure, Ollama, vLLM, LM Studio).

One call per reply: the SDK never retries (a retry would be a second, unseen attempt) and waits at
most the configured timeout. The answer is asked for as strict json_schema and read as strictly:
one JSON object (a ```json fence around it is tolerated), nothing else.
"""

import openai

from sophie.llm import contract
from sophie.llm.base import AgentContext, Draft, LLMError
from sophie.llm.messages import (
    chat_turns,
    refine_system_text,
    refine_turns,
    review_system_text,
    review_turns,
    system_text,
)


class OpenAIBackend:
    name = "openai"

    def __init__(self, *, model: str, base_url: str = "", api_key: str = "", timeout: float = 20.0):
        self.model = model
        self.timeout = timeout
        # Local servers (Ollama, vLLM) ignore the key, but the SDK insists on one.
        self.client = openai.OpenAI(
            base_url=base_url or None, api_key=api_key or "unused", max_retries=0, timeout=timeout
        )

    def reply(self, context: AgentContext) -> Draft:
        messages = [{"role": "system", "content": system_text(context)}, *chat_turns(context)]
        content = self._complete(messages, name="reply", schema=contract.REPLY_SCHEMA)
        return contract.draft_from(
            contract.json_object_parse(content), lesson_ids=tuple(lesson.id for lesson in context.lessons)
        )

    def refine(self, text: str, classification: dict) -> dict | None:
        messages = [{"role": "system", "content": refine_system_text(classification)}, *refine_turns(text)]
        try:
            content = self._complete(messages, name="classification", schema=contract.REFINE_SCHEMA)
            return contract.refinement_from(contract.json_object_parse(content))
        except LLMError:
            return None

    def review(self, text: str, *, lead_texts: tuple[str, ...], context: AgentContext) -> dict | None:
        """A score 0–1 of one sent text, with feedback (docs/learning.md); None when the answer is unusable."""
        messages = [{"role": "system", "content": review_system_text(context)}, *review_turns(text, lead_texts)]
        content = self._complete(messages, name="review", schema=contract.REVIEW_SCHEMA)
        return contract.review_from(contract.json_object_parse(content))

    def _complete(self, messages: list[dict], *, name: str, schema: dict) -> str:
        try:
            completion = self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": name, "strict": True, "schema": schema},
                },
            )
        except openai.OpenAIError as error:
            raise contract.sdk_failure(error, openai, timeout=self.timeout) from error
        if not completion.choices:
            raise LLMError("empty answer from the model (no choices)")
        choice = completion.choices[0]
        message = choice.message
        if message.refusal:
            raise LLMError(f"the model refused: {contract.clip(message.refusal)}")
        if choice.finish_reason == "content_filter":
            raise LLMError("the model refused: the provider's content filter stopped the answer")
        if choice.finish_reason == "length" and message.content:
            raise LLMError("the model's answer was cut off (token limit)")
        return message.content or ""
