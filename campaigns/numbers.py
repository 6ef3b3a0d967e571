"""The client's own numbers: registered in `clients.SendingNumber` (one client per number); a dataset's
campaign settings may name one of them, otherwise the client's default is used."""

from django.db.models import Exists, OuterRef

from clients.access import current_client
from clients.models import Client, SendingNumber
from clients.numbers import number_is_clients, numbers_of
from leads.models import CampaignSettings


def sending_number(options: CampaignSettings, client: Client) -> str | None:
    """The number a dataset's texts go from."""
    return options.twilio_number or client.twilio_phone_number or None


def sending_number_problem(number: str | None, client: Client) -> str | None:
    """Why texts may not go from `number` for this client (the pre-send check and the campaign start ask)."""
    if number and not number_is_clients(client=client, number=number):
        return number_not_registered(number, client)
    return None


def number_not_registered(number: str, client: Client) -> str:
    return f"The sending number {number} is not registered to {client.company_name}."


def number_registered(client: Client):
    """Whether the outer query's `from_number` is one of the client's numbers, as an annotation (the claim
    reads it with the message rather than asking again)."""
    return Exists(SendingNumber.objects.filter(client_id=client.pk, number=OuterRef("from_number")))


def client_numbers() -> set[str]:
    """Every number registered to the current client, as E.164 strings (an inbound `To` is compared exactly)."""
    return numbers_of(current_client())
