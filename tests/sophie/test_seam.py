"""The seam: campaigns announces a processed reply after commit; Sophie listens from her apps.py."""

import pytest
from django.db import transaction
from django.utils import timezone

from campaigns.models import Conversation, Message
from campaigns.signals import inbound_processed, inbound_processed_announce
from leads.models import Lead
from sophie.receivers import reply_processed
from tests.campaigns.helpers import campaign_dataset


def _reply(text: str) -> Message:
    dataset = campaign_dataset(name="Seam", leads=1)
    lead = Lead.objects.get(dataset=dataset)
    conversation = Conversation.objects.create(lead=lead, dataset=dataset)
    return Message.objects.create(
        conversation=conversation, lead=lead, content=text, direction="inbound", status="received"
    )


def test_it_connects_sophie_to_campaigns_signal():
    assert reply_processed in inbound_processed._live_receivers(sender=Message)[0]


def test_sophie_reads_the_reply_once_the_transaction_commits(alpha, django_capture_on_commit_callbacks):
    message = _reply("not interested thanks")

    with django_capture_on_commit_callbacks(execute=True):
        inbound_processed_announce(message=message, at=timezone.now())

    message.refresh_from_db()
    assert message.classification["status"] == "COLD"
    assert message.lead.contact_status == "COLD"


def test_nothing_is_announced_when_the_transaction_rolls_back(alpha, django_capture_on_commit_callbacks):
    message = _reply("yes please")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            inbound_processed_announce(message=message, at=timezone.now())
            raise RuntimeError("rolled back")

    assert callbacks == []
    message.refresh_from_db()
    assert message.classification is None
