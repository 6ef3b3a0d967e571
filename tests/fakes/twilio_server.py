"""A local fake of Twilio's Messages REST API, for the real twilio SDK to talk to.

    with FakeTwilio() as fake:                # http://127.0.0.1:<port>, a server thread
        fake.reject_number("+447700900111", 21211)
        fake.fail_next("500")                 # "500", "429", "delay", "drop", "garbage", "error"
        fake.outage("500")                    # every request fails so until fake.outage(None)
        fake.answer_delay = 0.2               # every answer takes 200 ms (a real provider's latency)
        ...
        fake.messages                         # every message it accepted, in order

Faults apply to the next request(s) of any kind, in the order they were programmed.
`store` says whether a POST is recorded before the fault strikes (the realistic ambiguous
case: Twilio has the message but we never hear so).
"""

import base64
import json
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

API = "/2010-04-01/Accounts/"
ERROR_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    21211: "The 'To' number {to} is not a valid phone number.",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: {to}.",
    21606: "The 'From' phone number provided ({from_}) is not a valid message-capable Twilio phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21612: "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number.",
    21614: "'To' number {to} is not a mobile number",
}
ERROR_STATUS = {20003: 401, 20429: 429}


@dataclass
class Fault:
    kind: str  # "500", "429", "delay", "drop", "garbage", "error"
    store: bool
    code: int | None = None
    seconds: float = 0.0


def _error_body(code: int, status: int, **fmt) -> dict:
    message = ERROR_MESSAGES.get(code, "Error {code}").format(code=code, **{"to": "", "from_": "", **fmt})
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio:
    def __init__(self, account_sid: str = "AC" + "f" * 32, auth_token: str = "fake-auth-token"):
        self.account_sid, self.auth_token = account_sid, auth_token
        self._lock = threading.Lock()
        self.clock = lambda: datetime.now(UTC)  # tests with an injected clock set the fake's too
        self._messages: list[dict] = []
        self._faults: list[Fault] = []
        self._rejected: dict[str, int] = {}
        self._outage: Fault | None = None  # a fault every request meets until it is lifted
        self.answer_delay = 0.0  # seconds every answer waits, as a real provider's latency
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---
    def start(self) -> "FakeTwilio":
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = False  # server_close() joins every handler thread
        self._server.block_on_close = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a "delay" fault
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> "FakeTwilio":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- programming ---
    def fail_next(
        self, kind: str, *, times: int = 1, code: int | None = None, seconds: float = 30.0, store: bool | None = None
    ) -> None:
        """Programs the next `times` requests to fail; `code` for "error" (e.g. 21211, 20003)."""
        if kind not in ("500", "429", "delay", "drop", "garbage", "error"):
            raise ValueError(kind)
        if store is None:
            store = kind in ("500", "delay", "drop", "garbage")
        with self._lock:
            self._faults += [Fault(kind, store, code, seconds) for _ in range(times)]

    def outage(self, kind: str | None, *, store: bool = False) -> None:
        """Every request from now on fails with `kind` ("500", "429", "drop", …); None ends the outage.

        `store`: a POST is recorded before it fails (Twilio kept the text, we never heard); by default not,
        so a text sent during the outage reaches nobody and must be sent again once it ends.
        """
        if kind is not None and kind not in ("500", "429", "drop", "garbage"):
            raise ValueError(kind)
        with self._lock:
            self._outage = Fault(kind, store) if kind else None

    def reject_number(self, number: str, code: int = 21211) -> None:
        """Every message to `number` gets a Twilio 4xx error with this code."""
        with self._lock:
            self._rejected[number] = code

    def add_message(
        self, *, to: str, from_: str, body: str, date_created: datetime | None = None, status: str = "delivered"
    ) -> dict:
        """Puts a message in the account's history, as if sent earlier."""
        return self._store({"To": to, "From": from_, "Body": body}, status=status, at=date_created)

    @property
    def messages(self) -> list[dict]:
        with self._lock:
            return [dict(m) for m in self._messages]

    # --- internals ---
    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else self._outage

    def _store(self, form: dict, *, status: str = "queued", at: datetime | None = None) -> dict:
        at = at or self.clock()
        sid = "SM" + uuid.uuid4().hex
        record = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": format_datetime(at, usegmt=True),
            "date_sent": format_datetime(at, usegmt=True) if status != "queued" else None,
            "date_updated": format_datetime(at, usegmt=True),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": status,
            "subresource_uris": {"media": f"{API}{self.account_sid}/Messages/{sid}/Media.json"},
            "to": form.get("To"),
            "uri": f"{API}{self.account_sid}/Messages/{sid}.json",
            # Not Twilio's: what else the request carried, for assertions.
            "status_callback": form.get("StatusCallback"),
            "validity_period": form.get("ValidityPeriod"),
        }
        with self._lock:
            self._messages.append(record)
        return record

    def _list(self, query: dict[str, str]) -> list[dict]:
        def day(value: str):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).date()

        found = []
        for m in self.messages:
            if "To" in query and m["to"] != query["To"]:
                continue
            if "From" in query and m["from"] != query["From"]:
                continue
            sent = parsedate_to_datetime(m["date_sent"]).date() if m["date_sent"] else None
            # Twilio filters on the date only, and a message still queued has no date_sent.
            if "DateSent>" in query and (sent is None or sent < day(query["DateSent>"])):
                continue
            if "DateSent<" in query and (sent is None or sent > day(query["DateSent<"])):
                continue
            if "DateSent" in query and sent != day(query["DateSent"]):
                continue
            found.append(m)
        return sorted(found, key=lambda m: parsedate_to_datetime(m["date_created"]), reverse=True)


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # many senders connect at once (bench/cadence sends on dozens of threads)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeTwilio
    protocol_version = "HTTP/1.0"  # one request per connection: no idle keep-alive threads at stop

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        fake = self.fake
        url = urlsplit(self.path)
        with fake._lock:
            fake.requests.append((method, url.path))
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()}
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}

        if not self._authorised():
            return self._json(401, _error_body(20003, 401))
        prefix = f"{API}{fake.account_sid}/Messages"
        if not url.path.startswith(prefix):
            return self._json(404, _error_body(20404, 404))
        if fake.answer_delay and fake._stopping.wait(fake.answer_delay):
            return None
        fault = fake._next_fault()
        is_create = method == "POST" and url.path == prefix + ".json"
        stored = fake._store(form) if is_create and fault and fault.store else None
        if fault and fault.kind == "delay":
            if fake._stopping.wait(fault.seconds):
                return None
            if stored:
                return self._json(201, stored)
        elif fault:
            return self._fault(fault)
        if is_create:
            return self._create(form)
        if method == "GET" and url.path == prefix + ".json":
            return self._page(prefix, query)
        if method == "GET" and url.path.endswith(".json"):
            sid = url.path[len(prefix) + 1 : -len(".json")]
            for m in fake.messages:
                if m["sid"] == sid:
                    return self._json(200, m)
        return self._json(404, _error_body(20404, 404))

    def _authorised(self) -> bool:
        expected = base64.b64encode(f"{self.fake.account_sid}:{self.fake.auth_token}".encode()).decode()
        return self.headers.get("Authorization", "") == f"Basic {expected}"

    def _create(self, form: dict) -> None:
        for field in ("To", "From", "Body"):
            if not form.get(field):
                return self._json(
                    400,
                    {
                        "code": 21602 if field == "Body" else 21604,
                        "message": f"A '{field}' is required.",
                        "more_info": "",
                        "status": 400,
                    },
                )
        code = self.fake._rejected.get(form["To"])
        if code is not None:
            status = ERROR_STATUS.get(code, 400)
            return self._json(status, _error_body(code, status, to=form["To"], from_=form["From"]))
        self._json(201, self.fake._store(form))

    def _page(self, prefix: str, query: dict) -> None:
        size = int(query.get("PageSize", 50))
        number = int(query.get("Page", 0))
        found = self.fake._list(query)
        chunk = found[number * size : (number + 1) * size]
        filters = {k: v for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

        def uri(page: int) -> str:
            return f"{prefix}.json?" + urlencode({**filters, "PageSize": size, "Page": page, "PageToken": f"PA{page}"})

        more = (number + 1) * size < len(found)
        self._json(
            200,
            {
                "messages": chunk,
                "end": number * size + max(len(chunk) - 1, 0),
                "first_page_uri": f"{prefix}.json?" + urlencode({**filters, "PageSize": size, "Page": 0}),
                "next_page_uri": uri(number + 1) if more else None,
                "page": number,
                "page_size": size,
                "previous_page_uri": uri(number - 1) if number > 0 else None,
                "start": number * size,
                "uri": f"{prefix}.json?" + urlencode({**filters, "PageSize": size, "Page": number}),
            },
        )

    def _fault(self, fault: Fault) -> None:
        if fault.kind == "500":
            return self._json(500, {"code": 20500, "message": "Internal Server Error", "more_info": "", "status": 500})
        if fault.kind == "429":
            return self._json(429, _error_body(20429, 429))
        if fault.kind == "error":
            status = ERROR_STATUS.get(fault.code, 400)
            return self._json(status, _error_body(fault.code, status))
        if fault.kind == "garbage":
            return self._raw(201, b"<html><body>upstream hiccup</body></html>", "text/html")
        # "drop": close without a single byte of answer.
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _json(self, status: int, payload: dict) -> None:
        self._raw(status, json.dumps(payload).encode(), "application/json")

    def _raw(self, status: int, body: bytes, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (timeout test)
            pass
