"""The cadence tick processes stored replies before it queues a step, so a reply stops M2 with no worker."""

from datetime import UTC, datetime, timedelta

from campaigns.cadence import cadence_run_in_process
from campaigns.inbound import inbound_store
from campaigns.models import InboundSms, Message
from campaigns.services import campaign_start
from leads.models import Lead
from tests.campaigns.helpers import NUMBER, campaign_dataset

TUESDAY_10 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
M2_DUE = TUESDAY_10 + timedelta(hours=48)


def _reply(lead: Lead, body: str, at: datetime) -> InboundSms:
    params = {"MessageSid": f"SM{lead.pk.hex}", "From": lead.phone_number, "To": NUMBER, "Body": body}
    inbound, _ = inbound_store(params=params, at=at)
    return inbound


def test_it_processes_a_stored_reply_before_queueing_m2(alpha):
    # given: M1 went to both leads, and one answered; no worker processed the text
    dataset = campaign_dataset(leads=2)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    cadence_run_in_process(at=TUESDAY_10)
    replied, silent = Lead.objects.order_by("first_name")
    inbound = _reply(replied, "Yes please, tell me more", TUESDAY_10 + timedelta(hours=3))

    # when
    run = cadence_run_in_process(at=M2_DUE)

    # then
    assert dict(run.sent) == {"sent": 1}
    assert not Message.objects.filter(lead=replied, message_type="M2").exists()
    assert Message.objects.filter(lead=silent, message_type="M2", status="sent").exists()
    inbound.refresh_from_db()
    assert (inbound.processed_at, inbound.outcome, inbound.lead_id) == (M2_DUE, "matched", replied.pk)
    replied.refresh_from_db()
    assert (replied.next_step, replied.due_at, replied.latest_lead_reply) == (None, None, "Yes please, tell me more")


def test_a_reply_stored_after_the_tick_instant_waits_for_a_later_tick(alpha):
    dataset = campaign_dataset(leads=1)
    campaign_start(dataset=dataset, at=TUESDAY_10)
    cadence_run_in_process(at=TUESDAY_10)
    inbound = _reply(Lead.objects.get(), "STOP", M2_DUE + timedelta(minutes=5))

    cadence_run_in_process(at=M2_DUE, send=False)

    inbound.refresh_from_db()
    assert inbound.processed_at is None
