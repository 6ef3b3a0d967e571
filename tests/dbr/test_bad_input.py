"""Bad input never gets a 500 (docs/security.md §3): one middleware answers 400 to NUL and invalid
UTF-8, malformed ids get 400, and a fuzz walk over every URL pattern finds no 5xx."""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from campaigns.models import MessageStatusEvent
from campaigns.twilio_signature import twilio_sign
from clients.api_tokens import api_token_create
from tests.campaigns.helpers import campaign_dataset

HOST = {"HTTP_HOST": "alpha.localhost"}
NUL, BAD_UTF8 = "%00", "%FF%FE"


@pytest.fixture
def signed_in(alpha, owner, client):
    campaign_dataset(name="Fuzz", leads=2)
    client.force_login(owner)
    return client


@pytest.mark.parametrize("url", ["/leads/", "/leads/export/", "/suppressions/", "/inbox/", "/api/leads/"])
@pytest.mark.parametrize("value", [NUL, BAD_UTF8, f"ab{NUL}cd"])
def test_it_answers_400_to_nul_or_invalid_utf8_in_a_query_string(url, value, signed_in):
    for name in ("q", "status", "dataset"):
        response = signed_in.get(f"{url}?{name}={value}", **HOST)

        assert response.status_code == 400, (url, name)
        assert b"NUL" in response.content or b"UTF-8" in response.content


def test_it_answers_400_to_nul_or_invalid_utf8_in_a_form_field(signed_in):
    urlencoded = signed_in.post(
        "/suppressions/", f"phone_number=07700900{NUL}1", content_type="application/x-www-form-urlencoded", **HOST
    )
    multipart = signed_in.post("/suppressions/", {"phone_number": "0770\x00", "reason": "x"}, **HOST)
    latin1 = signed_in.post(
        "/suppressions/", f"reason={BAD_UTF8}", content_type="application/x-www-form-urlencoded", **HOST
    )

    assert (urlencoded.status_code, multipart.status_code, latin1.status_code) == (400, 400, 400)


def test_it_answers_400_to_a_malformed_id(signed_in, owner):
    token = api_token_create(user=owner, name="test")

    api = signed_in.get("/api/leads/?dataset=north", HTTP_AUTHORIZATION=f"Token {token.key}", **HOST)
    page = signed_in.get("/leads/?dataset=1", **HOST)
    export = signed_in.get("/leads/export/?dataset=1", **HOST)

    assert (api.status_code, page.status_code, export.status_code) == (400, 400, 400)
    assert b"dataset must be an id" in export.content  # refused before the stream started


def test_a_signed_status_callback_with_a_nul_is_kept_with_ufffd(alpha, client):
    params = {"MessageSid": "SM" + "4" * 32, "MessageStatus": "delivered", "ErrorMessage": "bad\x00byte"}
    url = "/webhooks/twilio/status/?message=not-a-uuid"
    signature = twilio_sign(f"http://alpha.localhost{url}", params)

    response = client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature, **HOST)

    assert response.status_code == 200
    assert MessageStatusEvent.objects.get().payload["ErrorMessage"] == "bad\ufffdbyte"


# --- The fuzz walk ----------------------------------------------------------------------------

SAMPLES = {"uuid": lambda: str(uuid.uuid4()), "int": lambda: "1", "path": lambda: "alpha/x/y.csv"}
QUERIES = [
    f"q={NUL}&status={NUL}&dataset={NUL}&page={NUL}&lead={NUL}&kind={NUL}",
    f"q={BAD_UTF8}&dataset={BAD_UTF8}&message={BAD_UTF8}",
    "q=" + "A" * 20000 + "&page=99999999999999999999&dataset=" + "9" * 500,
    "dataset=1&lead=x&page=-1&mine=[]&status=[]&o=-9&p=abc&e=1",
]
FORMS = [
    {"q": "\x00", "text": "\x00", "email": "a\x00@b", "name": "\x00", "role": "\x00", "contact_status": "\x00"},
    {"text": "x" * 100000, "role": "owner", "enabled": "maybe", "at": "not-a-date", "dataset": "1", "lead": "x"},
    {"datasets": ["1", "x"], "restrict_datasets": "on", "page": "-1", "delay_type": [], "m1_message": ""},
]


def _regex_example(regex: str) -> str | None:
    def group(match):
        body = match.group(2)
        return body.split("|")[0] if re.fullmatch(r"[\w|]+", body) else "1"

    text = re.sub(r"\(\?P<(\w+)>([^)]*)\)", group, regex)
    text = text.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    return None if re.search(r"[()\[\]*+?|{}]", text) else text


def _examples(resolver=None, prefix="") -> list[str]:
    resolver = resolver or get_resolver("dbr.urls_tenants")
    found = []
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        if hasattr(pattern, "_route"):
            part = pattern._route
            for name, converter in pattern.converters.items():
                kind = type(converter).__name__.removesuffix("Converter").lower()
                part = re.sub(rf"<(\w+:)?{name}>", SAMPLES.get(kind, lambda: "x")(), part)
        else:
            part = _regex_example(pattern._regex)
        if part is None:
            continue
        if isinstance(entry, URLResolver):
            found += _examples(entry, prefix + part)
        elif isinstance(entry, URLPattern):
            found.append("/" + prefix + part)
    return sorted(set(found))


def test_the_walk_covers_the_product(db):
    urls = _examples()
    assert {"/leads/", "/api/schema/", "/admin/leads/lead/", "/webhooks/twilio/sms/"} <= set(urls)
    assert len(urls) > 60


@pytest.mark.slow
def test_no_url_answers_5xx_to_bad_input(signed_in, owner):
    failures = []
    started = timezone.now()
    for url in _examples():
        if "logout" in url:
            continue
        signed_in.force_login(owner)  # a page may have signed us out (password change)
        signed_in.raise_request_exception = False
        for query in QUERIES:
            status = signed_in.get(f"{url}?{query}", **HOST).status_code
            if status >= 500:
                failures.append(f"GET {url}?{query[:40]} → {status}")
        for form in FORMS:
            status = signed_in.post(url, form, **HOST).status_code
            if status >= 500:
                failures.append(f"POST {url} {sorted(form)[:3]} → {status}")
    assert not failures, "\n".join(failures)
    assert (timezone.now() - started).total_seconds() < 600
