"""Which client a Twilio number belongs to (docs/security.md §1): one place, read by the pre-send
check and the inbound webhook, written by the settings services and `manage.py sending_number`."""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clients.models import Client, SendingNumber

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def sending_number_add(*, client: Client, number: str) -> SendingNumber:
    number = (number or "").strip()
    if not E164.match(number):
        raise ValidationError(f"{number!r} is not a number in E.164 form, like +447700900123.")
    owner = SendingNumber.objects.filter(number=number).select_related("client").first()
    if owner is not None:
        if owner.client_id == client.pk:
            return owner
        raise ValidationError(f"{number} already belongs to another client.")
    try:
        with transaction.atomic():
            return SendingNumber.objects.create(number=number, client=client)
    except IntegrityError:  # registered meanwhile
        raise ValidationError(f"{number} already belongs to another client.") from None


def sending_number_remove(*, client: Client, number: str) -> None:
    deleted, _ = SendingNumber.objects.filter(client=client, number=(number or "").strip()).delete()
    if not deleted:
        raise ValidationError(f"{number} is not one of {client.company_name}'s numbers.")


def numbers_of(client: Client) -> set[str]:
    """The client's registered numbers, as E.164 strings."""
    return set(SendingNumber.objects.filter(client=client).values_list("number", flat=True))


def number_is_clients(*, client: Client, number: str | None) -> bool:
    return bool(number) and SendingNumber.objects.filter(client=client, number=number).exists()


def client_default_number_set(*, client: Client, number: str) -> Client:
    """The number a dataset's texts go from when its campaign settings name none: one of the client's own."""
    if not number_is_clients(client=client, number=number):
        raise ValidationError(f"{number} is not one of {client.company_name}'s numbers.")
    client.twilio_phone_number = number
    client.save(update_fields=["twilio_phone_number", "updated_at"])
    return client
