"""Building blocks shared by the cadence tests."""

from clients.access import current_client
from clients.models import SendingNumber
from leads.models import CampaignSettings, Dataset, Lead
from leads.services import dataset_create

NUMBER = "+447700900999"  # the campaign's sending number


def campaign_dataset(name="Cadence", leads=3, **settings) -> Dataset:
    """A dataset with `leads` leads and its own settings: the sending number, limits null unless given."""
    dataset = dataset_create(name=name)
    number_register(settings.get("twilio_number", NUMBER))
    CampaignSettings.objects.filter(pk=dataset.campaign_settings_id).update(
        **{
            "twilio_number": NUMBER,
            "messages_per_minute": None,
            "messages_per_hour": None,
            "messages_per_day": None,
            **settings,
        }
    )
    Lead.objects.bulk_create(
        [Lead(dataset=dataset, first_name=f"Lead{n}", phone_number=f"+4477009001{n:02d}") for n in range(leads)]
    )
    dataset.refresh_from_db()
    return dataset


def number_register(number: str | None) -> None:
    """Registers a sending number to the current client (clients.SendingNumber), as staff would."""
    if number:
        SendingNumber.objects.get_or_create(number=number, defaults={"client": current_client()})


_sids = iter(range(10**6))


def text_received(from_: str, body: str, *, at, to: str = NUMBER):
    """A text stored by the webhook and processed as the worker would; the processed InboundSms row."""
    from campaigns.inbound import inbound_process, inbound_store

    params = {"MessageSid": f"SM{next(_sids):032d}", "From": from_, "To": to, "Body": body}
    row, _ = inbound_store(params=params, at=at)
    return inbound_process(inbound_id=row.pk, at=at)


def text_via_webhook(from_: str, body: str, *, at, to: str = NUMBER):
    """As `text_received`, with the webhook's own step first: an exact opt-out keyword applied at once."""
    from campaigns.inbound import inbound_keyword_apply, inbound_process, inbound_store

    params = {"MessageSid": f"SM{next(_sids):032d}", "From": from_, "To": to, "Body": body}
    row, _ = inbound_store(params=params, at=at)
    inbound_keyword_apply(inbound=row, at=at)
    return inbound_process(inbound_id=row.pk, at=at)
