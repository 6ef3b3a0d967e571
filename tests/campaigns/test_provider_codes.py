"""Every Twilio code has one consequence, whether a refused send or a status callback brings it."""

import re
from pathlib import Path

import pytest

from campaigns.models import Message
from campaigns.outbox.codes import CODES, Kind
from campaigns.services import campaign_start
from campaigns.transports.base import TransportError
from leads.models import Dataset, Lead, Suppression
from tests.campaigns.helpers import campaign_dataset
from tests.campaigns.test_cadence import TUESDAY_10, _run
from tests.campaigns.test_status_callbacks import TOKEN, _params, _post

REPO = Path(__file__).resolve().parents[2]
APPS = ("clients", "leads", "campaigns", "sophie", "dbr")
# The demo fabricates a history with a few undelivered texts: its codes are sample data, like a fixture's.
NOT_CHECKED = {Path("campaigns/outbox/codes.py"), Path("dbr/demo.py")}
# A suppression source: its stored value and label name the code it came from (renaming would rewrite rows).
ALLOWED = ("TWILIO_21610 = ",)

# What each kind does: (lead can receive SMS, lead still in the cadence, number suppressed, campaign status)
EXPECTED = {
    Kind.NOT_TEXTABLE: (False, False, False, "active"),
    Kind.UNSUBSCRIBED: (True, False, True, "active"),
    Kind.ACCOUNT: (True, True, False, "paused"),
    Kind.FILTERED: (True, True, False, "active"),  # one filtered text is far from 5% of the last 100
    Kind.RATE_LIMITED: (True, True, False, "active"),
    Kind.OTHER: (True, True, False, "active"),
}
# Refused at the send, a cadence step can never go, so its lead leaves the cadence (its status says so);
# reported by a callback, the step went and the lead had moved on already. The account's codes hold the
# text for the resume, the rate limit's retry it: their leads stay in the cadence either way.
LEAVES_WHEN_REFUSED = {Kind.FILTERED, Kind.OTHER}
WORD_WHEN_REFUSED = {Kind.ACCOUNT: "held", Kind.RATE_LIMITED: "retry"}


@pytest.fixture
def signed(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN


def _campaign() -> Dataset:
    dataset = campaign_dataset(name="Codes", leads=1)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    return dataset


def _consequence(dataset: Dataset) -> tuple:
    lead = Lead.objects.get(dataset=dataset)
    dataset.refresh_from_db()
    suppressed = Suppression.objects.filter(phone_number=lead.phone_number).exists()
    return lead.sms_capable, lead.next_step is not None, suppressed, dataset.campaign_status


@pytest.mark.parametrize("code", sorted(CODES))
def test_a_refused_send_and_a_callback_have_the_same_consequence(alpha, client, signed, code, sms_outbox):
    refused = _campaign()
    sms_outbox.fail_next(TransportError(f"Twilio refused ({code})", kind=TransportError.PERMANENT, code=code))
    kind = CODES[code].kind
    assert _run(TUESDAY_10) == {WORD_WHEN_REFUSED.get(kind, "failed"): 1}
    by_send = _consequence(refused)
    if kind in LEAVES_WHEN_REFUSED:
        assert Lead.objects.get(dataset=refused).contact_status == "SEND_FAILED"
    elif kind == Kind.ACCOUNT:
        assert Message.objects.get(lead__dataset=refused).status == "pending"  # sent once resumed
    Dataset.objects.filter(pk=refused.pk).delete()
    Suppression.objects.all().delete()

    reported = _campaign()
    assert _run(TUESDAY_10) == {"sent": 1}
    message = Message.objects.get(lead__dataset=reported)
    _post(client, alpha, _params("failed", sid=message.twilio_sid, code=code), message=message)
    by_callback = _consequence(reported)

    sms_capable, in_cadence, suppressed, status = EXPECTED[kind]
    assert by_callback == EXPECTED[kind]
    assert by_send == (sms_capable, in_cadence and kind not in LEAVES_WHEN_REFUSED, suppressed, status)


def test_no_twilio_code_is_written_outside_the_table():
    known = "|".join(sorted(CODES))
    literal = re.compile(rf"\b(?:{known})\b|[\"'][123]\d{{4}}[\"']")
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for app in APPS
        for path in sorted((REPO / app).rglob("*.py"))
        if "migrations" not in path.parts and path.relative_to(REPO) not in NOT_CHECKED
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if literal.search(line) and not any(allowed in line for allowed in ALLOWED)
    ]

    assert found == []
