"""The client's own numbers: the default one and any that a dataset's campaign settings name."""

from clients.access import current_client
from clients.models import Client
from leads.models import CampaignSettings


def sending_number(options: CampaignSettings, client: Client) -> str | None:
    """The number a dataset's texts go from."""
    return options.twilio_number or client.twilio_phone_number or None


def client_numbers() -> set[str]:
    """Every number of the current client, as E.164 strings (an inbound `To` is compared exactly)."""
    numbers = set(
        CampaignSettings.objects.exclude(twilio_number__isnull=True)
        .exclude(twilio_number="")
        .values_list("twilio_number", flat=True)
    )
    client = current_client()
    if client.twilio_phone_number:
        numbers.add(client.twilio_phone_number)
    return numbers
