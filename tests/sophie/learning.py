"""Helpers of the learning tests: a lead who wrote, and an AI reply Sophie wrote and the outbox sent."""

from datetime import timedelta

from campaigns.models import Message
from leads.models import Lead
from sophie.llm.base import Draft
from sophie.writing import reply_write
from tests.campaigns.helpers import campaign_dataset, text_received
from tests.sophie.test_writing import TUESDAY, Scripted


def learning_lead(name="Learning", **settings) -> Lead:
    dataset = campaign_dataset(name=name, leads=1, ai_response_delay_seconds=0, **settings)
    return Lead.objects.get(dataset=dataset)


def ai_text(lead, capture, *, says: str, text: str, lessons=(), at=TUESDAY, status="", sentiment="") -> Message:
    """The lead `says` something; Sophie answers `text` (listing `lessons`), and the outbox sends it."""
    with capture(execute=True):  # the reading and planning run on commit
        text_received(lead.phone_number, says, at=at)
    planned = Message.objects.get(lead=lead, status__in=["scheduled", "draft"])
    draft = Draft("send", text, status=status, sentiment=sentiment, lessons_used=tuple(str(pk) for pk in lessons))
    with capture(execute=False):
        reply_write(message_id=planned.pk, at=planned.due_at or at, backend=Scripted(draft))
    Message.objects.filter(pk=planned.pk).update(status="sent", sent_at=at + timedelta(seconds=5))
    planned.refresh_from_db()
    return planned
