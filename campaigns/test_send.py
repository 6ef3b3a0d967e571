"""A test text: M1 as the sample lead would get it, sent to a staff member's own phone."""

from campaigns.numbers import sending_number
from campaigns.preview import message_preview
from campaigns.services import CampaignRefused
from campaigns.transports import get_transport
from campaigns.transports.base import SendResult
from clients.models import Client
from leads.bookings import booking_link_example
from leads.models import CampaignSettings, Suppression


def campaign_test_send(*, options: CampaignSettings, client: Client, lead, to: str) -> SendResult:
    """Through the configured transport, as every text; TransportError leaves as it came for the caller to show.

    A test: no Message row, no lead or dataset change, no status callback.
    """
    from_ = sending_number(options, client)
    problems = []
    if not from_:
        problems.append("There is no sending number: set one in these settings or the client's settings.")
    if not (options.m1_message or "").strip():
        problems.append("M1 is empty: write it first.")
    if Suppression.objects.filter(phone_number=to).exists():
        problems.append(f"{to} is on the suppression list, so nothing is sent to it.")
    if problems:
        raise CampaignRefused(problems)
    # The text the preview shows for M1 is the text sent.
    body = message_preview(
        "M1",
        options.m1_message,
        lead=lead,
        company_name=client.company_name,
        agent_name=options.agent_name,
        booking_link=booking_link_example(options.cal_booking_link),
        auto_append_opt_out=options.auto_append_opt_out,
    ).text
    return get_transport().send(to=to, from_=from_, body=body, status_callback=None, validity_period=None)
