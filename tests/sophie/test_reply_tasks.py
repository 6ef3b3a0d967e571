"""The beat entry for due replies (every ready client, whatever its campaigns) and its per-client task."""

from datetime import timedelta

from django.utils import timezone

from campaigns.models import Message
from leads.models import Lead
from sophie import tasks
from tests.campaigns.helpers import campaign_dataset, text_received


def test_the_client_task_writes_every_due_reply_and_leaves_the_rest(alpha, django_capture_on_commit_callbacks):
    now = timezone.now()
    dataset = campaign_dataset(name="Due", leads=2, ai_response_delay_seconds=600)
    due, later = Lead.objects.filter(dataset=dataset).order_by("first_name")
    with django_capture_on_commit_callbacks(execute=True):
        text_received(due.phone_number, "yes please", at=now - timedelta(hours=1))
        text_received(later.phone_number, "yes please", at=now)

    assert tasks.replies_due_client.run() == 1

    assert Message.objects.get(lead=due, ai_generated=True).status == "pending"
    assert Message.objects.get(lead=later, ai_generated=True).status == "scheduled"


def test_the_beat_queues_a_task_only_for_clients_with_a_due_reply(alpha, beta, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks, "enqueue", lambda task, **kwargs: queued.append(task))
    dataset = campaign_dataset(name="Due", leads=1)
    lead = dataset.leads.get()
    from campaigns.models import Conversation

    conversation = Conversation.objects.create(lead=lead, dataset=dataset)
    Message.objects.create(
        conversation=conversation, lead=lead, content="", direction="outbound", message_type="reply",
        status="scheduled", due_at=timezone.now() - timedelta(seconds=5), ai_generated=True,
    )  # fmt: skip

    assert tasks.replies_due_all.run() == 1
    assert queued == [tasks.replies_due_client]
