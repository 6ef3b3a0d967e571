"""What a model must answer, and the one strict reading of it, shared by the openai and anthropic backends.

A model's answer is accepted only as one JSON object with exactly the reply's fields and values from
their lists; anything else (prose, a half object, an action we do not know) is an `LLMError` with one
line for staff. The agent turns that error into a hand-off, never into silence.
"""

import json
import re

from sophie.llm.base import HANDOFF, SEND, SENTIMENTS, STATUSES, Draft, LLMError

ACTIONS = (SEND, HANDOFF)
# Opt-out and removal are the deterministic rules' call (campaigns/optout.py), never a model's.
REFINE_STATUSES = tuple(status for status in STATUSES if status != "REMOVED")

REPLY_SCHEMA = {
    "type": "object",
    "properties": {
        "action": {"type": "string", "enum": list(ACTIONS)},
        "text": {"type": "string"},
        "status": {"type": "string", "enum": ["", *STATUSES]},
        "sentiment": {"type": "string", "enum": ["", *SENTIMENTS]},
        "reason": {"type": "string"},
        "lessons_used": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["action", "text", "status", "sentiment", "reason", "lessons_used"],
    "additionalProperties": False,
}

REFINE_SCHEMA = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": list(REFINE_STATUSES)},
        "sentiment": {"type": "string", "enum": list(SENTIMENTS)},
    },
    "required": ["status", "sentiment"],
    "additionalProperties": False,
}

# A model's review of one text Sophie sent (docs/learning.md): a score, one sentence, a better text or "".
REVIEW_SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "feedback": {"type": "string"},
        "suggested_text": {"type": "string"},
    },
    "required": ["score", "feedback", "suggested_text"],
    "additionalProperties": False,
}

# The whole answer is one ```json fenced block (models add one even when told not to).
_FENCE = re.compile(r"\A```(?:json|JSON)?[ \t]*\n(?P<body>.*)\n[ \t]*```\Z", re.DOTALL)


def json_object_parse(content: str | None) -> dict:
    """The answer as a JSON object: the whole text, or the whole text inside one ```json fence."""
    content = (content or "").strip()
    if not content:
        raise LLMError("empty answer from the model")
    fenced = _FENCE.match(content)
    if fenced:
        content = fenced.group("body").strip()
    if not content.startswith("{"):
        raise LLMError(f"the model answered in prose instead of JSON: {clip(content)}")
    try:
        parsed = json.loads(content)
    except ValueError as error:
        raise LLMError(f"the model's JSON is malformed ({error.msg} at character {error.pos})") from None
    if not isinstance(parsed, dict):
        raise LLMError("the model's JSON is not an object")
    return parsed


def draft_from(answer: object, *, lesson_ids: tuple[str, ...]) -> Draft:
    """The one validation of a model's answer; lesson ids the context did not hold are dropped."""
    if not isinstance(answer, dict):
        raise LLMError("the model's answer is not a JSON object")
    missing = [name for name in REPLY_SCHEMA["required"] if name not in answer]
    if missing:
        raise LLMError(f"the model's answer lacks {', '.join(missing)}")
    action, text, status, sentiment, reason, used = (answer[name] for name in REPLY_SCHEMA["required"])
    if action not in ACTIONS:
        raise LLMError(f"the model's action {clip(repr(action))} is not send or handoff")
    if not isinstance(text, str):
        raise LLMError("the model's text is not a string")
    if action == SEND and not text.strip():
        raise LLMError("the model chose to send an empty text")
    if status not in ("", *STATUSES):
        raise LLMError(f"the model's status {clip(repr(status))} is not one of {', '.join(STATUSES)}")
    if sentiment not in ("", *SENTIMENTS):
        raise LLMError(f"the model's sentiment {clip(repr(sentiment))} is not one of {', '.join(SENTIMENTS)}")
    if not isinstance(reason, str):
        raise LLMError("the model's reason is not a string")
    if not isinstance(used, list) or not all(isinstance(item, str) for item in used):
        raise LLMError("the model's lessons_used is not a list of lesson ids")
    return Draft(
        action=action,
        text=text.strip(),
        status=status,
        sentiment=sentiment,
        reason=reason.strip(),
        lessons_used=tuple(dict.fromkeys(item for item in used if item in lesson_ids)),
    )


def refinement_from(answer: object) -> dict | None:
    """{"status", "sentiment"} when the answer is exactly that, else None (refining never fails a reply)."""
    if not isinstance(answer, dict):
        return None
    status, sentiment = answer.get("status"), answer.get("sentiment")
    if status not in REFINE_STATUSES or sentiment not in SENTIMENTS:
        return None
    return {"status": status, "sentiment": sentiment}


def review_from(answer: object) -> dict | None:
    """{"score": 0..1, "feedback", "suggested_text"} when the answer has that shape, else None (a review
    never fails anything: the rules' score stands)."""
    if not isinstance(answer, dict):
        return None
    score, feedback, suggested = answer.get("score"), answer.get("feedback"), answer.get("suggested_text", "")
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        return None
    if not isinstance(feedback, str) or not isinstance(suggested, str):
        return None
    return {"score": float(score), "feedback": feedback.strip(), "suggested_text": suggested.strip()}


def sdk_failure(error: Exception, sdk, *, timeout: float) -> LLMError:
    """One line for staff from an openai or anthropic SDK exception (both SDKs share these class names)."""
    if isinstance(error, sdk.APITimeoutError):
        return LLMError(f"the model did not answer within {timeout:g} s")
    if isinstance(error, sdk.APIConnectionError):
        return LLMError(f"could not reach the model server: {clip(str(error.__cause__ or error))}")
    if isinstance(error, sdk.RateLimitError):
        return LLMError("the model provider is rate limiting us (HTTP 429)")
    if isinstance(error, sdk.APIStatusError):
        kind = "server error" if error.status_code >= 500 else "request refused"
        return LLMError(f"model provider {kind} (HTTP {error.status_code}): {clip(_message(error))}")
    if isinstance(error, sdk.APIResponseValidationError):
        return LLMError("the model server's answer does not have the provider's shape")
    return LLMError(f"model call failed: {clip(str(error))}")


def _message(error) -> str:
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(getattr(error, "message", "") or error)


def clip(text: str, limit: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
