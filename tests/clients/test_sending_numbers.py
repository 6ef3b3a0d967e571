"""A Twilio number belongs to one client (clients.SendingNumber): registered by the command and
create_client, read by the pre-send check, the campaign start and the inbound webhook."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from campaigns.models import Conversation, InboundSms, Message
from campaigns.outbox.claim import message_claim
from campaigns.services import start_problems
from clients.models import Client, SendingNumber
from clients.services import client_create
from tests.campaigns.helpers import NUMBER, campaign_dataset, text_received

BETA_NUMBER = "+447700900777"


def test_the_command_registers_a_number_to_one_client_only(alpha, beta, capsys):
    call_command("sending_number", "--client", "beta", "add", BETA_NUMBER)
    assert SendingNumber.objects.get(number=BETA_NUMBER).client == beta

    with pytest.raises(CommandError, match="already belongs to another client"):
        call_command("sending_number", "--client", "alpha", "add", BETA_NUMBER)
    with pytest.raises(CommandError, match="E.164"):
        call_command("sending_number", "--client", "alpha", "add", "07700 900777")

    call_command("sending_number", "--client", "beta", "remove", BETA_NUMBER)
    assert not SendingNumber.objects.filter(number=BETA_NUMBER).exists()


def test_create_client_refuses_a_number_another_client_has(tenants, db):
    SendingNumber.objects.create(number=BETA_NUMBER, client=tenants["beta"])

    with pytest.raises(ValidationError) as refused:
        client_create(name="Gamma Ltd", slug="gamma", number=BETA_NUMBER)

    assert "already belongs" in refused.value.message_dict["number"][0]
    assert not Client.objects.filter(slug="gamma").exists()


@pytest.fixture
def beta_number(beta):
    return SendingNumber.objects.create(number=BETA_NUMBER, client=beta).number


def _pending(lead, **fields) -> Message:
    conversation, _ = Conversation.objects.get_or_create(lead=lead, defaults={"dataset": lead.dataset})
    values = {
        "content": "Thanks, a colleague will call you. Reply STOP to opt out",
        "direction": "outbound",
        "message_type": "manual",
        "from_number": NUMBER,
        "to_number": lead.phone_number,
        "status": "pending",
        **fields,
    }
    return Message.objects.create(conversation=conversation, lead=lead, **values)


@pytest.mark.parametrize("message_type", ["m1", "reply", "manual", "opt_out_confirmation"])
def test_the_pre_send_check_refuses_another_clients_from_and_a_wrong_to(message_type, alpha, beta_number):
    lead = campaign_dataset(name="Numbers", leads=1).leads.get()
    foreign = _pending(lead, message_type=message_type, from_number=beta_number)
    wrong_to = _pending(lead, message_type=message_type, to_number="+447700900555")

    for message in (foreign, wrong_to):
        claim = message_claim(message_id=message.pk, at=timezone.now())
        message.refresh_from_db()
        assert (claim.message, claim.word, message.status) == (None, "wrong number", "failed"), message.to_number


def test_a_campaign_with_an_unregistered_number_does_not_start(alpha, beta_number):
    dataset = campaign_dataset(name="Foreign", leads=1, twilio_number=None)
    options = dataset.campaign_settings
    options.twilio_number = beta_number

    assert any("not registered" in problem for problem in start_problems(dataset, alpha))


def test_a_text_to_another_clients_number_is_foreign_here(alpha, beta_number):
    lead = campaign_dataset(name="Inbound", leads=1).leads.get()

    ours = text_received(lead.phone_number, "Yes please", at=timezone.now())
    theirs = text_received(lead.phone_number, "Yes please", at=timezone.now(), to=beta_number)

    assert ours.outcome != InboundSms.Outcome.FOREIGN_TO
    assert theirs.outcome == InboundSms.Outcome.FOREIGN_TO
    assert connection.schema_name == "alpha"
