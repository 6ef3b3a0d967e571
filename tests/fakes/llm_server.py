"""A local fake LLM provider that speaks OpenAI's `/v1/chat/completions` and Anthropic's `/v1/messages`,
for the real openai and anthropic SDKs to talk to.

    with FakeLLM() as fake:                    # http://127.0.0.1:<port>, a server thread
        fake.answer_next("good", answer={...}) # the reply object; also "fenced", "500", "429", "hang",
                                               # "prose", "malformed", "refusal", "empty", "long", "invalid"
        ...
        fake.requests                          # every request: path, headers, JSON body

Answers apply to the next request(s) of either API, in the order they were programmed; with none
programmed the fake answers "good" with `DEFAULT_ANSWER`. On `/v1/messages` "good" is a call of the
tool the request forced, with the answer as its input.
"""

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("good", "fenced", "500", "429", "hang", "prose", "malformed", "refusal", "empty", "long", "invalid")
DEFAULT_ANSWER = {
    "action": "send",
    "text": "Thanks Sarah. Is it your own home? If so, pick a time for a quick call here: https://cal.example/acme",
    "status": "HOT",
    "sentiment": "positive",
    "reason": "says they are interested",
    "lessons_used": [],
}
LONG_TEXT = ("Thanks. " * 375).strip() + "!"  # 3,000 characters
PROSE = "Sure! Here is a friendly reply you could send: Hi Sarah, great to hear from you."


@dataclass
class Request:
    path: str
    headers: dict
    body: dict


@dataclass
class Answer:
    kind: str
    answer: dict = field(default_factory=dict)
    seconds: float = 5.0
    exact: dict | None = None


class FakeLLM:
    def __init__(self):
        self._lock = threading.Lock()
        self._answers: list[Answer] = []
        self._requests: list[Request] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---
    def start(self) -> "FakeLLM":
        class Handler(_Handler):
            fake = self

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = False  # server_close() joins every handler thread
        self._server.block_on_close = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a "hang"
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> "FakeLLM":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The anthropic SDK's base URL (it adds `/v1/messages`)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def openai_base_url(self) -> str:
        """The openai SDK's base URL (it adds `/chat/completions`), as for Ollama or vLLM."""
        return self.base_url + "/v1"

    # --- programming ---
    def answer_next(
        self,
        kind: str,
        *,
        answer: dict | None = None,
        exact: dict | None = None,
        times: int = 1,
        seconds: float = 5.0,
    ) -> None:
        """The next `times` requests get this answer: `answer` overrides fields of DEFAULT_ANSWER, `exact` is the
        whole object (a refinement, missing fields); `seconds` is how long a "hang" lasts."""
        if kind not in KINDS:
            raise ValueError(kind)
        with self._lock:
            self._answers += [Answer(kind, answer or {}, seconds, exact) for _ in range(times)]

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    # --- internals ---
    def _next(self, request: Request) -> Answer:
        with self._lock:
            self._requests.append(request)
            return self._answers.pop(0) if self._answers else Answer("good")


def _payload(answer: Answer) -> dict:
    if answer.kind == "long":
        return {**DEFAULT_ANSWER, "text": LONG_TEXT}
    if answer.kind == "invalid":
        return {**DEFAULT_ANSWER, "action": "maybe", **answer.answer}
    if answer.exact is not None:
        return dict(answer.exact)
    return {**DEFAULT_ANSWER, **answer.answer}


def _content(answer: Answer) -> str:
    """The assistant's text for chat completions."""
    if answer.kind == "prose":
        return PROSE
    if answer.kind == "malformed":
        return '{"action": "send", "text": "Thanks Sarah, '
    if answer.kind == "empty":
        return ""
    text = json.dumps(_payload(answer))
    return f"```json\n{text}\n```" if answer.kind == "fenced" else text


def _chat_completion(request: Request, answer: Answer) -> dict:
    refused = answer.kind == "refusal"
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex,
        "object": "chat.completion",
        "created": 1_790_000_000,
        "model": request.body.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None if refused else _content(answer),
                    "refusal": "I can't help with that." if refused else None,
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def _anthropic_message(request: Request, answer: Answer) -> dict:
    tool = (request.body.get("tool_choice") or {}).get("name", "reply")
    stop_reason, content = "tool_use", []
    if answer.kind == "refusal":
        stop_reason = "refusal"
    elif answer.kind == "empty":
        stop_reason = "end_turn"
    elif answer.kind in ("prose", "malformed"):
        # A tool call cannot be malformed JSON once the SDK parsed it: the model writes text instead.
        stop_reason, content = "end_turn", [{"type": "text", "text": _content(answer)}]
    else:
        content = [{"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex, "name": tool, "input": _payload(answer)}]
    return {
        "id": "msg_" + uuid.uuid4().hex,
        "type": "message",
        "role": "assistant",
        "model": request.body.get("model", ""),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 100, "output_tokens": 20},
    }


_ERRORS = {
    "500": (500, {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}),
    "429": (429, {"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limit reached"}}),
}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLLM
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that keeps a connection open cannot hold up stop() for long

    def log_message(self, *args) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        path = self.path.split("?", 1)[0]
        request = Request(path, {key.lower(): value for key, value in self.headers.items()}, body)
        if path not in ("/v1/chat/completions", "/v1/messages"):
            return self._json(404, {"error": {"message": f"no route {path}"}})
        answer = self.fake._next(request)
        if answer.kind == "hang":
            self.fake._stopping.wait(answer.seconds)
            return self._json(200, {"error": "too late"})
        if answer.kind in _ERRORS:
            status, error = _ERRORS[answer.kind]
            return self._json(status, error)
        if path == "/v1/messages":
            return self._json(200, _anthropic_message(request, answer))
        return self._json(200, _chat_completion(request, answer))

    def _json(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")  # one request per connection, so stop() never waits
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a "hang" past its timeout)
