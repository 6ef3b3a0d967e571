"""Sophie on Anthropic's Messages API: the reply is a forced call of one tool whose input schema is the reply.

As with the openai backend: one call, no SDK retries, one timeout, and the tool input goes through
the same validation (sophie/llm/contract.py).
"""

import anthropic

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

MAX_TOKENS = 1024  # a reply is two SMS at most; the rest is room for the JSON around it


class AnthropicBackend:
    name = "anthropic"

    def __init__(self, *, model: str, base_url: str = "", api_key: str = "", timeout: float = 20.0):
        self.model = model
        self.timeout = timeout
        self.client = anthropic.Anthropic(
            base_url=base_url or None, api_key=api_key or "unused", max_retries=0, timeout=timeout
        )

    def reply(self, context: AgentContext) -> Draft:
        answer = self._tool_call(
            system_text(context),
            chat_turns(context),
            name="reply",
            description="Send the reply to the lead, or hand the conversation to a person.",
            schema=contract.REPLY_SCHEMA,
        )
        return contract.draft_from(answer, lesson_ids=tuple(lesson.id for lesson in context.lessons))

    def refine(self, text: str, classification: dict) -> dict | None:
        try:
            answer = self._tool_call(
                refine_system_text(classification),
                refine_turns(text),
                name="classification",
                description="Record the lead's status and sentiment.",
                schema=contract.REFINE_SCHEMA,
            )
        except LLMError:
            return None
        return contract.refinement_from(answer)

    def review(self, text: str, *, lead_texts: tuple[str, ...], context: AgentContext) -> dict | None:
        """A score 0–1 of one sent text, with feedback (docs/learning.md); None when the answer is unusable."""
        answer = self._tool_call(
            review_system_text(context),
            review_turns(text, lead_texts),
            name="review",
            description="Record the review of the assistant's SMS.",
            schema=contract.REVIEW_SCHEMA,
        )
        return contract.review_from(answer)

    def _tool_call(self, system: str, turns: list[dict], *, name: str, description: str, schema: dict) -> dict:
        try:
            message = self.client.messages.create(
                model=self.model,
                max_tokens=MAX_TOKENS,
                system=system,
                messages=turns,
                tools=[{"name": name, "description": description, "input_schema": schema}],
                tool_choice={"type": "tool", "name": name},
            )
        except anthropic.AnthropicError as error:
            raise contract.sdk_failure(error, anthropic, timeout=self.timeout) from error
        if message.stop_reason == "refusal":
            raise LLMError("the model refused to answer")
        for block in message.content or ():
            if block.type == "tool_use" and block.name == name:
                if message.stop_reason == "max_tokens":
                    raise LLMError("the model's answer was cut off (token limit)")
                return block.input
        text = " ".join(block.text for block in message.content or () if block.type == "text").strip()
        if text:
            raise LLMError(f"the model answered in prose instead of calling the {name} tool: {contract.clip(text)}")
        raise LLMError("empty answer from the model")
