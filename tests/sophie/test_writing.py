"""A due reply is written by the agent and goes to the outbox, to staff, or to a person — never unsafe."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from campaigns.models import Conversation, Message
from leads.models import Lead, LeadEvent
from sophie.llm.base import AgentContext, Draft, LLMError
from sophie.models import AiReply
from sophie.review import ReviewRefused, draft_discard, draft_send, handoff_clear
from sophie.writing import reply_write
from tests.campaigns.helpers import campaign_dataset, text_received, text_via_webhook

TUESDAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


class Scripted:
    """An LLM backend that answers from a list (the SDK backends are tested against a fake server)."""

    name, model = "scripted", "test-model"

    def __init__(self, *answers, on_call=None):
        self.answers, self.contexts, self.on_call = list(answers), [], on_call

    def reply(self, context: AgentContext) -> Draft:
        self.contexts.append(context)
        if self.on_call:
            self.on_call()
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def refine(self, text, classification):
        return None


def _lead(**settings) -> Lead:
    dataset = campaign_dataset(name="Writing", leads=1, ai_response_delay_seconds=0, **settings)
    return Lead.objects.get(dataset=dataset)


def _texted(lead, body, capture, at=TUESDAY) -> Message:
    with capture(execute=True):
        text_received(lead.phone_number, body, at=at)
    return Message.objects.get(lead=lead, status__in=["scheduled", "draft"])


def test_it_writes_the_reply_with_the_rules_backend_and_queues_it(alpha, django_capture_on_commit_callbacks):
    lead = _lead()
    planned = _texted(lead, "yes how much is it", django_capture_on_commit_callbacks)

    word = reply_write(message_id=planned.pk, at=TUESDAY + timedelta(seconds=1))

    planned.refresh_from_db()
    assert word == "queued" and planned.status == "pending"
    assert planned.content and planned.from_number == "+447700900999"
    record = AiReply.objects.get(message=planned)
    assert record.backend == "rules" and record.action == "send" and record.prompt_id is not None
    assert record.attempts[0]["guardrails"] and all(v["passed"] for v in record.attempts[0]["guardrails"])


def test_it_is_not_written_before_it_is_due(alpha, django_capture_on_commit_callbacks):
    lead = _lead(ai_multiple_messages_wait_seconds=60)
    planned = _texted(lead, "yes", django_capture_on_commit_callbacks)
    _texted(lead, "how much", django_capture_on_commit_callbacks, at=TUESDAY + timedelta(seconds=10))

    assert reply_write(message_id=planned.pk, at=TUESDAY + timedelta(seconds=20)) == "not due"


def test_suggest_mode_makes_a_draft_that_staff_edit_and_send(alpha, owner, django_capture_on_commit_callbacks):
    lead = _lead(ai_mode="suggest")
    planned = _texted(lead, "yes please", django_capture_on_commit_callbacks)
    backend = Scripted(Draft("send", "Great, Lead0. Do you own your home?", status="HOT", sentiment="positive"))

    assert reply_write(message_id=planned.pk, at=TUESDAY, backend=backend) == "draft"
    planned.refresh_from_db()
    assert planned.status == "draft" and planned.content.startswith("Great")

    draft_send(message=planned, text="Great news. Do you own the house?", actor=owner, at=TUESDAY)

    planned.refresh_from_db()
    record = AiReply.objects.get(message=planned)
    assert planned.status == "pending" and planned.content == "Great news. Do you own the house?"
    assert record.original_text.startswith("Great, Lead0") and record.edited_by == owner
    with pytest.raises(ReviewRefused):
        draft_discard(message=planned, actor=owner, at=TUESDAY)


def test_a_discarded_draft_never_goes(alpha, owner, django_capture_on_commit_callbacks):
    lead = _lead(ai_mode="suggest")
    planned = _texted(lead, "yes please", django_capture_on_commit_callbacks)
    reply_write(message_id=planned.pk, at=TUESDAY, backend=Scripted(Draft("send", "Do you own your home?")))
    planned.refresh_from_db()

    draft_discard(message=planned, actor=owner, at=TUESDAY)

    planned.refresh_from_db()
    assert planned.status == "cancelled" and "discarded" in planned.error_message


def test_a_first_guardrail_failure_is_fixed_by_the_regeneration(alpha, django_capture_on_commit_callbacks):
    lead = _lead()
    planned = _texted(lead, "yes please", django_capture_on_commit_callbacks)
    backend = Scripted(
        Draft("send", "Great! Book your free survey today."),
        Draft("send", "Great. Would a quick call with the team help?", status="HOT"),
    )

    assert reply_write(message_id=planned.pk, at=TUESDAY, backend=backend) == "queued"

    planned.refresh_from_db()
    assert planned.content == "Great. Would a quick call with the team help?"
    assert "free" in backend.contexts[1].retry_because
    assert AiReply.objects.get(message=planned).regenerated


@pytest.mark.parametrize(
    "bad",
    [
        "Get free solar panels today",  # blacklisted word
        "x" * 3000,  # far over two segments
        "Sounds good \U0001f600\U0001f600\U0001f600\U0001f389",  # emoji storm
        "Have a look at https://cheap-panels.example/deal",  # a URL that is not the booking link
    ],
)
def test_two_failures_hand_off_and_nothing_is_sent(alpha, bad, django_capture_on_commit_callbacks):
    lead = _lead()
    planned = _texted(lead, "yes please", django_capture_on_commit_callbacks)

    word = reply_write(message_id=planned.pk, at=TUESDAY, backend=Scripted(Draft("send", bad), Draft("send", bad)))

    planned.refresh_from_db()
    conversation = Conversation.objects.get(lead=lead)
    assert word == "handoff" and planned.status == "cancelled"
    assert conversation.needs_review and conversation.handoff_at == TUESDAY
    assert "guardrail" in conversation.handoff_reason
    assert LeadEvent.objects.filter(lead=lead, event_type="handoff").exists()
    assert not Message.objects.filter(lead=lead, status__in=["pending", "sending", "sent"], ai_generated=True).exists()


@pytest.mark.parametrize(
    "failure", ["timed out after 20 s", "HTTP 500 from the model", "HTTP 429: rate limited", "answered prose"]
)
def test_a_model_failure_hands_off_with_the_reason(alpha, failure, django_capture_on_commit_callbacks):
    lead = _lead()
    planned = _texted(lead, "yes please", django_capture_on_commit_callbacks)

    reply_write(message_id=planned.pk, at=TUESDAY, backend=Scripted(LLMError(failure)))

    record = AiReply.objects.get(message=planned)
    assert record.action == "handoff" and failure in record.reason
    assert failure in Conversation.objects.get(lead=lead).handoff_reason


def test_a_hand_off_silences_sophie_until_staff_clear_it(alpha, owner, django_capture_on_commit_callbacks):
    lead = _lead()
    planned = _texted(lead, "can I speak to a real person", django_capture_on_commit_callbacks)
    polite = Draft(
        "handoff",
        "Of course. I'm an automated assistant, so I'll ask one of the team to call you.",
        reason="asked for a person",
    )

    assert reply_write(message_id=planned.pk, at=TUESDAY, backend=Scripted(polite)) == "handoff"
    planned.refresh_from_db()
    assert planned.status == "pending" and planned.content.startswith("Of course")  # the polite line goes

    with django_capture_on_commit_callbacks(execute=True):
        text_received(lead.phone_number, "hello?", at=TUESDAY + timedelta(minutes=5))
    assert not Message.objects.filter(lead=lead, status="scheduled").exists()

    handoff_clear(lead=lead, actor=owner, at=TUESDAY + timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        text_received(lead.phone_number, "still there?", at=TUESDAY + timedelta(minutes=7))
    assert Message.objects.filter(lead=lead, status="scheduled").exists()


def test_a_stop_while_the_model_writes_cancels_the_reply(alpha, django_capture_on_commit_callbacks):
    lead = _lead()
    planned = _texted(lead, "yes please", django_capture_on_commit_callbacks)

    def lead_says_stop():
        text_via_webhook(lead.phone_number, "STOP", at=TUESDAY)

    backend = Scripted(Draft("send", "Great. Would a quick call help?"), on_call=lead_says_stop)
    word = reply_write(message_id=planned.pk, at=TUESDAY, backend=backend)

    planned.refresh_from_db()
    assert word == "cancelled" and planned.status == "cancelled" and "opted out" in planned.error_message


def test_a_text_while_the_model_writes_gets_it_rewritten(alpha, django_capture_on_commit_callbacks):
    lead = _lead()
    planned = _texted(lead, "yes please", django_capture_on_commit_callbacks)

    def lead_writes_again():
        text_received(lead.phone_number, "actually how much is it", at=TUESDAY)

    backend = Scripted(Draft("send", "Great. Would a quick call help?"), on_call=lead_writes_again)
    assert reply_write(message_id=planned.pk, at=TUESDAY, backend=backend) == "moved"

    planned.refresh_from_db()
    assert planned.status == "scheduled" and planned.content == ""
    assert reply_write(message_id=planned.pk, at=planned.due_at) == "queued"


def test_two_bursts_racing_the_beat_get_one_reply(committed_db, tenants):
    """Two texts of one lead processed by two threads at once, while the beat writes: one reply."""
    connection.set_tenant(tenants["alpha"])
    lead = _lead()
    barrier = threading.Barrier(3)
    errors = []

    def worker(body):
        try:
            connection.set_tenant(tenants["alpha"])
            barrier.wait()
            text_received(lead.phone_number, body, at=TUESDAY)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    def beat():
        try:
            connection.set_tenant(tenants["alpha"])
            barrier.wait()
            for _ in range(20):
                for message in Message.objects.filter(status="scheduled"):
                    reply_write(message_id=message.pk, at=TUESDAY + timedelta(minutes=10))
                time.sleep(0.02)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(b,)) for b in ("yes please", "how much is it")]
    threads.append(threading.Thread(target=beat))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    connection.set_tenant(tenants["alpha"])
    replies = Message.objects.filter(lead=lead, ai_generated=True).exclude(status="cancelled")
    assert replies.count() == 1
