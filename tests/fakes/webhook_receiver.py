"""A local stand-in for an n8n webhook (or any receiver of DBR's outbound events).

    with FakeReceiver(secret="whsec_…") as receiver:   # http://127.0.0.1:<port>/hook, a server thread
        receiver.answer_next("500")                    # also "redirect", "slow" (200 after `seconds`),
                                                       # "hang" (no answer for `seconds`, then closed), "200"
        ...
        receiver.requests                              # every request: headers, raw body, JSON, signature ok?
        receiver.accepted                              # the events it answered 2xx in time, in arrival order

With nothing programmed it answers 200. It verifies `X-DBR-Signature` as a real receiver would.
"""

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = ("200", "500", "redirect", "slow", "hang")


def signature_valid(*, secret: str, header: str, body: bytes) -> bool:
    """How a receiver checks `X-DBR-Signature: t=<unix>,v1=<hex>` (docs/outbound_events.md)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
    except ValueError:
        return False
    expected = hmac.new(secret.encode(), parts.get("t", "").encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


@dataclass
class Received:
    headers: dict
    raw: bytes
    body: dict
    signed: bool
    answer: str


class FakeReceiver:
    def __init__(self, *, secret: str = ""):
        self.secret = secret
        self._lock = threading.Lock()
        self._answers: list[tuple[str, float]] = []
        self._requests: list[Received] = []
        self._accepted: list[dict] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "FakeReceiver":
        class Handler(_Handler):
            fake = self

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = False  # server_close() joins every handler thread
        self._server.block_on_close = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-receiver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a "slow" answer
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> "FakeReceiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def answer_next(self, kind: str, *, times: int = 1, seconds: float = 30.0) -> None:
        if kind not in KINDS:
            raise ValueError(kind)
        with self._lock:
            self._answers += [(kind, seconds)] * times

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    @property
    def accepted(self) -> list[dict]:
        with self._lock:
            return list(self._accepted)

    def _next(self, request: Received) -> tuple[str, float]:
        with self._lock:
            kind, seconds = self._answers.pop(0) if self._answers else ("200", 0.0)
            request.answer = kind
            self._requests.append(request)
            return kind, seconds

    def _accept(self, body: dict) -> None:
        with self._lock:
            self._accepted.append(body)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeReceiver
    protocol_version = "HTTP/1.1"
    timeout = 10

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode(errors="replace")}
        headers = {key.lower(): value for key, value in self.headers.items()}
        signed = signature_valid(secret=self.fake.secret, header=headers.get("x-dbr-signature", ""), body=raw)
        kind, seconds = self.fake._next(Received(headers, raw, body, signed, ""))
        if kind == "slow":
            # The sender gave up long before; what it would have got is never seen.
            self.fake._stopping.wait(seconds)
            return self._answer(200)
        if kind == "hang":
            self.fake._stopping.wait(seconds)
            self.close_connection = True
            return None
        if kind == "500":
            return self._answer(500, b"boom")
        if kind == "redirect":
            return self._answer(302, location="http://127.0.0.1:9/elsewhere")
        if not signed:
            return self._answer(401, b"bad signature")
        self.fake._accept(body)
        return self._answer(200, b"ok")

    def _answer(self, status: int, data: bytes = b"", location: str = "") -> None:
        self.close_connection = True
        try:
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
