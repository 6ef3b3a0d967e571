"""`inbound_receive`, the webhook's work: one statement for a plain text, store and STOP in one transaction."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import inbound
from campaigns.inbound import inbound_receive
from campaigns.models import InboundSms
from leads.models import Suppression
from tests.campaigns.helpers import NUMBER

_sids = iter(range(10**6))


def _params(body: str, *, sid: str | None = None) -> dict:
    return {"MessageSid": sid or f"SM{next(_sids):032d}", "From": "07700 900100", "To": NUMBER, "Body": body}


def _statements(queries) -> list[str]:
    """The first word of each statement, the search_path (set once per schema) apart."""
    return [query["sql"].split()[0] for query in queries.captured_queries if "search_path" not in query["sql"]]


def test_a_plain_text_is_one_insert_and_its_replay_one_more_read(alpha):
    at = timezone.now()
    params = _params("Yes please")

    with CaptureQueriesContext(connection) as first:
        row, created = inbound_receive(params=params, at=at)
    with CaptureQueriesContext(connection) as replay:
        again, created_again = inbound_receive(params={**params, "Body": "changed"}, at=at + timedelta(minutes=1))

    assert created and not created_again
    assert _statements(first) == ["INSERT"]
    assert _statements(replay) == ["INSERT", "SELECT"]  # the INSERT that did nothing, the read
    stored = InboundSms.objects.get()
    assert again.pk == row.pk == stored.pk
    assert (stored.body, stored.received_at, stored.processed_at) == ("Yes please", at, None)
    assert stored.from_number == "+447700900100" and stored.params == params and stored.created_at is not None


def test_a_stop_is_stored_and_applied_in_one_transaction(alpha, monkeypatch):
    def failing(**kwargs):
        raise RuntimeError("suppression failed")

    monkeypatch.setattr(inbound, "number_opt_out", failing)

    with pytest.raises(RuntimeError):
        inbound_receive(params=_params("STOP"), at=timezone.now())

    assert not InboundSms.objects.exists()  # Twilio gets a 500 and sends it again: nothing half-done


def test_a_replayed_stop_is_not_applied_again(alpha):
    params = _params("STOP")
    inbound_receive(params=params, at=timezone.now())
    Suppression.objects.all().delete()  # lifted since (an opt-in, say)

    _, created = inbound_receive(params=params, at=timezone.now())

    assert not created
    assert not Suppression.objects.exists()
