"""Insights made automatically (after each AI send, per conversation, nightly per campaign) and the review
queue's services: approve and learn, teach Sophie, dismiss."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from campaigns.models import Conversation, Message
from leads.models import Lead
from sophie import tasks
from sophie.insights.campaigns import dataset_patterns
from sophie.insights.messages import message_quality_check
from sophie.insights.review import InsightRefused, insight_approve, insight_dismiss, insight_record, insight_teach
from sophie.models import AiReply, Insight, Lesson
from sophie.review import draft_send
from tests.campaigns.helpers import campaign_dataset, text_received
from tests.sophie.learning import ai_text, learning_lead
from tests.sophie.test_writing import TUESDAY

LATER = TUESDAY + timedelta(minutes=10)


@pytest.fixture
def lead(alpha) -> Lead:
    return learning_lead()


def test_a_clean_text_scores_one_and_opens_nothing(lead, django_capture_on_commit_callbacks):
    message = ai_text(lead, django_capture_on_commit_callbacks, says="yes please", text="Great, what day suits?")

    score = message_quality_check(message_id=message.pk, at=LATER)

    message.refresh_from_db()
    assert score == Decimal("1.00") and message.ai_quality_score == Decimal("1.00")
    assert message.ai_feedback == "No problems found." and not Insight.objects.filter(message=message).exists()
    checks = AiReply.objects.get(message=message).quality_checks
    assert len(checks) == 9 and all(check["passed"] for check in checks)


def test_a_pushy_unasked_text_scores_low_and_opens_one_insight_per_finding(lead, django_capture_on_commit_callbacks):
    message = ai_text(
        lead,
        django_capture_on_commit_callbacks,
        says="who is this?",
        text="Don't miss out, finance options are available.",
    )

    score = message_quality_check(message_id=message.pk, at=LATER)

    keys = set(Insight.objects.values_list("finding_key", flat=True))
    assert keys == {f"pushy:{message.pk}", f"unasked_answer:{message.pk}", f"low_score:{message.conversation_id}"}
    assert score == Decimal("0.55")
    insight = Insight.objects.get(finding_key=f"pushy:{message.pk}")
    assert insight.original_text == message.content and insight.severity == "warning" and insight.category == "tone"
    conversation = Conversation.objects.get(pk=message.conversation_id)
    assert conversation.needs_review and conversation.quality_score == Decimal("0.55")


def test_a_message_is_checked_once(lead, django_capture_on_commit_callbacks):
    message = ai_text(lead, django_capture_on_commit_callbacks, says="yes", text="Don't miss out, book a call.")

    assert message_quality_check(message_id=message.pk, at=LATER) is not None
    assert message_quality_check(message_id=message.pk, at=LATER) is None
    assert Insight.objects.filter(finding_key=f"pushy:{message.pk}").count() == 1


def test_a_finding_is_listed_once_while_open(alpha):
    first = insight_record(finding_key="rule:1", at=TUESDAY, insight_type="pattern", title="A", description="one")
    again = insight_record(finding_key="rule:1", at=TUESDAY, insight_type="pattern", title="A", description="two")

    assert first.pk == again.pk and Insight.objects.get(pk=first.pk).description == "two"
    with pytest.raises(IntegrityError), transaction.atomic():
        Insight.objects.create(finding_key="rule:1", insight_type="pattern", title="A", description="twice")


def test_a_closed_finding_is_not_raised_again_for_a_week(alpha, owner):
    insight = insight_record(finding_key="rule:2", at=TUESDAY, insight_type="pattern", title="A", description="d")
    insight_dismiss(insight=insight, actor=owner, at=TUESDAY)

    assert insight_record(finding_key="rule:2", at=TUESDAY + timedelta(days=1), insight_type="pattern",
                          title="A", description="d") is None  # fmt: skip
    later = insight_record(
        finding_key="rule:2", at=TUESDAY + timedelta(days=8), insight_type="pattern", title="A", description="d"
    )
    assert later is not None and later.pk != insight.pk


def test_the_send_queues_the_check_in_a_worker(lead, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("sophie.writing.enqueue", lambda task, *args, **kw: queued.append((task, args)))

    message = ai_text(lead, django_capture_on_commit_callbacks, says="yes please", text="Great, what day suits?")

    assert (tasks.message_quality_check, (str(message.pk),)) in queued


def test_a_check_that_fails_is_shown_and_the_text_still_goes(lead, django_capture_on_commit_callbacks, monkeypatch):
    message = ai_text(lead, django_capture_on_commit_callbacks, says="yes please", text="Great, what day suits?")

    def broken(**kwargs):
        raise RuntimeError("lessons table unreadable")

    monkeypatch.setattr("sophie.insights.messages.message_quality_check", broken)
    tasks.message_quality_check(str(message.pk))

    insight = Insight.objects.get(finding_key=f"check_failed:{message.pk}")
    assert "lessons table unreadable" in insight.description
    message.refresh_from_db()
    assert message.status == "sent"


def test_staff_edits_of_a_draft_arrive_as_teaching_material(alpha, owner, django_capture_on_commit_callbacks):
    lead = learning_lead(ai_mode="suggest")
    with django_capture_on_commit_callbacks(execute=True):
        text_received(lead.phone_number, "yes please", at=TUESDAY)
    planned = Message.objects.get(lead=lead, status="scheduled")
    from sophie.llm.base import Draft
    from sophie.writing import reply_write
    from tests.sophie.test_writing import Scripted

    with django_capture_on_commit_callbacks(execute=False):
        reply_write(message_id=planned.pk, at=planned.due_at, backend=Scripted(Draft("send", "Do you own your home?")))
        draft_send(message=planned, text="Lovely! Is the house your own?", actor=owner, at=TUESDAY)

    message_quality_check(message_id=planned.pk, at=LATER)

    insight = Insight.objects.get(finding_key=f"staff_edit:{planned.pk}")
    assert (
        insight.original_text == "Do you own your home?" and insight.suggested_text == "Lovely! Is the house your own?"
    )

    lesson = insight_approve(insight=insight, actor=owner, at=LATER)
    assert lesson.lesson_type == "example_good" and lesson.correct_response == "Lovely! Is the house your own?"
    assert lesson.trigger == "yes please" and lesson.source_message_id == planned.pk


def test_a_complaint_puts_the_conversation_in_front_of_a_person(lead, django_capture_on_commit_callbacks):
    ai_text(lead, django_capture_on_commit_callbacks, says="yes", text="Great, what day suits?")

    with django_capture_on_commit_callbacks(execute=True):
        text_received(lead.phone_number, "how did you get my number? this is harassment", at=LATER)

    conversation = Conversation.objects.get(lead=lead)
    insight = Insight.objects.get(insight_type="conversation", title="The lead complained")
    assert conversation.needs_review and insight.severity == "critical" and insight.conversation == conversation


def test_a_hand_off_opens_an_insight(lead):
    from sophie.insights.conversations import conversation_handoff_flag

    conversation = Conversation.objects.create(lead=lead, dataset=lead.dataset, handoff_at=TUESDAY, needs_review=True)
    conversation_handoff_flag(conversation=conversation, reason="asked about a grant", at=TUESDAY)

    assert Insight.objects.get(conversation=conversation).description.startswith("Why: asked about a grant")


# --- The review queue ------------------------------------------------------------------------------


@pytest.fixture
def pushy(lead, django_capture_on_commit_callbacks) -> Insight:
    message = ai_text(lead, django_capture_on_commit_callbacks, says="yes", text="Don't miss out, book now!")
    message_quality_check(message_id=message.pk, at=LATER)
    return Insight.objects.get(finding_key=f"pushy:{message.pk}")


def test_approve_and_learn_makes_the_prefilled_lesson_and_keeps_who(pushy, owner):
    lesson = insight_approve(insight=pushy, actor=owner, at=LATER)

    pushy.refresh_from_db()
    assert lesson.lesson_type == "example_bad" and lesson.incorrect_response == "Don't miss out, book now!"
    assert lesson.source == "sophie_suggestion" and lesson.tags == ["tone"]
    assert pushy.status == "approved_and_learned" and pushy.related_lesson == lesson
    assert pushy.reviewed_by == owner and pushy.reviewed_at == LATER
    assert Message.objects.get(pk=pushy.message_id).ai_feedback_status == "approved"


def test_approving_twice_is_refused_and_makes_no_second_lesson(pushy, owner):
    insight_approve(insight=pushy, actor=owner, at=LATER)
    count = Lesson.objects.count()

    with pytest.raises(InsightRefused, match="already reviewed"):
        insight_approve(insight=pushy, actor=owner, at=LATER)
    with pytest.raises(InsightRefused, match="already reviewed"):
        insight_teach(insight=pushy, actor=owner, at=LATER, should_have_said="Hi")
    assert Lesson.objects.count() == count


def test_teach_sophie_makes_a_good_example(pushy, owner):
    lesson = insight_teach(insight=pushy, actor=owner, at=LATER, should_have_said="Whenever suits, here is the link.")

    pushy.refresh_from_db()
    assert lesson.lesson_type == "example_good" and lesson.correct_response == "Whenever suits, here is the link."
    assert lesson.incorrect_response == "Don't miss out, book now!" and pushy.status == "taught_sophie"


def test_teaching_nothing_is_refused(pushy, owner):
    with pytest.raises(InsightRefused, match="should have said"):
        insight_teach(insight=pushy, actor=owner, at=LATER, should_have_said="   ")
    pushy.refresh_from_db()
    assert pushy.status == "pending"


def test_a_bad_lesson_from_the_form_keeps_the_insight_open(pushy, owner):
    with pytest.raises(InsightRefused, match="needs a title"):
        insight_approve(insight=pushy, actor=owner, at=LATER, fields={"lesson_type": "dos_donts", "title": " "})
    pushy.refresh_from_db()
    assert pushy.status == "pending"


def test_only_lesson_editors_review(pushy, teammate):
    with pytest.raises(PermissionDenied):
        insight_dismiss(insight=pushy, actor=teammate, at=LATER)


# --- Campaign patterns -----------------------------------------------------------------------------


def _campaign(sent: int, replied: int, opted: int, filtered: int = 0):
    """`sent` leads got M1 at 10:00 yesterday; `replied` of them answered, `opted` of those with STOP."""
    dataset = campaign_dataset(name="Patterns", leads=0)
    at = TUESDAY - timedelta(hours=12)
    leads = Lead.objects.bulk_create(
        Lead(dataset=dataset, first_name=f"P{n}", phone_number=f"+4477009{n:05d}") for n in range(sent)
    )
    conversations = Conversation.objects.bulk_create(Conversation(lead=lead, dataset=dataset) for lead in leads)
    rows = []
    for n, (lead, conversation) in enumerate(zip(leads, conversations, strict=True)):
        code = "30007" if n < filtered else None
        rows.append(
            Message(
                conversation=conversation,
                lead=lead,
                content="Hi, still keen? Reply STOP to opt out.",
                direction="outbound",
                message_type="M1",
                status="sent",
                sent_at=at,
                error_code=code,
            )
        )
        if n < replied:
            opt = n < opted
            rows.append(Message(conversation=conversation, lead=lead, content="STOP" if opt else "yes",
                                direction="inbound", status="received", classification={"opt_out": opt}))  # fmt: skip
    Message.objects.bulk_create(rows)
    Message.objects.filter(direction="inbound").update(created_at=at + timedelta(hours=1))
    return dataset


def test_nightly_patterns_find_reply_rates_opt_outs_and_filtering(alpha):
    dataset = _campaign(sent=60, replied=12, opted=6, filtered=4)

    found = {
        insight.finding_key.partition(":")[0]: insight for insight in dataset_patterns(dataset=dataset, at=TUESDAY)
    }

    assert set(found) == {"reply_rate_by_step", "opt_out_rate", "carrier_filtering"}
    assert "M1 20.0% (12 of 60)" in found["reply_rate_by_step"].description
    assert found["opt_out_rate"].affected_leads_count == 6 and found["opt_out_rate"].severity == "warning"
    assert found["carrier_filtering"].category == "delivery" and found["carrier_filtering"].severity == "critical"


def test_quiet_campaigns_say_nothing(alpha):
    dataset = _campaign(sent=10, replied=1, opted=0)

    assert dataset_patterns(dataset=dataset, at=TUESDAY) == []


def test_a_cadence_text_without_an_opt_out_line_is_a_compliance_finding(alpha):
    dataset = _campaign(sent=2, replied=0, opted=0)
    Message.objects.filter(lead__dataset=dataset).update(content="Hi, still keen on solar?")

    (insight,) = dataset_patterns(dataset=dataset, at=TUESDAY)

    assert insight.category == "compliance" and insight.affected_leads_count == 2


# --- The LLM review ----------------------------------------------------------------------------------


def test_a_model_backend_reviews_the_text_and_suggests_a_better_one(
    lead, django_capture_on_commit_callbacks, fake_llm, settings
):
    from sophie.llm import backend_get

    message = ai_text(lead, django_capture_on_commit_callbacks, says="yes", text="Great, what day suits?")
    settings.DBR_LLM_BACKEND, settings.DBR_LLM_BASE_URL = "openai", fake_llm.openai_base_url
    fake_llm.answer_next(
        "good", exact={"score": 0.4, "feedback": "Cold and short.", "suggested_text": "Lovely! What day suits?"}
    )

    score = message_quality_check(message_id=message.pk, at=LATER, backend=backend_get())

    assert score == Decimal("0.70")  # (1 from the rules + 0.4 from the model) / 2
    insight = Insight.objects.get(finding_key=f"llm_review:{message.pk}")
    assert insight.description == "Cold and short." and insight.suggested_text == "Lovely! What day suits?"
    review = AiReply.objects.get(message=message).quality_checks[-1]
    assert review["rule"] == "llm_review" and not review["passed"]


def test_a_failed_model_review_leaves_the_rules_score(lead, django_capture_on_commit_callbacks, fake_llm, settings):
    from sophie.llm import backend_get

    message = ai_text(lead, django_capture_on_commit_callbacks, says="yes", text="Great, what day suits?")
    settings.DBR_LLM_BACKEND, settings.DBR_LLM_BASE_URL = "openai", fake_llm.openai_base_url
    fake_llm.answer_next("malformed")

    assert message_quality_check(message_id=message.pk, at=LATER, backend=backend_get()) == Decimal("1.00")


def test_the_rules_backend_has_no_review(lead, django_capture_on_commit_callbacks):
    message = ai_text(lead, django_capture_on_commit_callbacks, says="yes", text="Great, what day suits?")

    message_quality_check(message_id=message.pk, at=LATER)

    assert [c["rule"] for c in AiReply.objects.get(message=message).quality_checks][-1] == "unasked_answer"


# --- Wiring: beat and the hand-off ---------------------------------------------------------------------


def test_beat_runs_the_patterns_nightly_for_each_ready_client(alpha, monkeypatch, settings):
    from celery.schedules import crontab

    queued = []
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args, **kw: queued.append(task))

    count = tasks.insight_patterns_all()

    entry = settings.CELERY_BEAT_SCHEDULE["sophie-insight-patterns"]
    assert entry["task"] == "sophie.tasks.insight_patterns_all" and isinstance(entry["schedule"], crontab)
    assert count >= 2 and queued == [tasks.insight_patterns_client] * count


def test_a_hand_off_queues_its_insight(lead, django_capture_on_commit_callbacks, monkeypatch):
    from sophie.writing import reply_handoff

    queued = []
    monkeypatch.setattr("sophie.writing.enqueue", lambda task, *args, **kw: queued.append((task, args)))
    conversation = Conversation.objects.create(lead=lead, dataset=lead.dataset)

    reply_handoff(lead=lead, reason="asked about a grant", at=TUESDAY)

    assert (tasks.handoff_flag, (str(conversation.pk), "asked about a grant")) in queued
    tasks.handoff_flag(str(conversation.pk), "asked about a grant")
    assert Insight.objects.get(conversation=conversation).title == "Sophie handed a lead to a person"


def test_a_discarded_draft_arrives_as_teaching_material(alpha, owner, django_capture_on_commit_callbacks, monkeypatch):
    from sophie.llm.base import Draft
    from sophie.review import draft_discard
    from sophie.writing import reply_write
    from tests.sophie.test_writing import Scripted

    lead = learning_lead(ai_mode="suggest")
    with django_capture_on_commit_callbacks(execute=True):
        text_received(lead.phone_number, "maybe", at=TUESDAY)
    planned = Message.objects.get(lead=lead, status="scheduled")
    reply_write(message_id=planned.pk, at=planned.due_at, backend=Scripted(Draft("send", "Shall I book you in?")))
    planned.refresh_from_db()
    queued = []
    monkeypatch.setattr("sophie.review.enqueue", lambda task, *args, **kw: queued.append((task, args)))

    draft_discard(message=planned, actor=owner, at=TUESDAY)
    assert queued == [(tasks.message_quality_check, (str(planned.pk),))]
    message_quality_check(message_id=planned.pk, at=LATER)

    insight = Insight.objects.get(finding_key=f"staff_discard:{planned.pk}")
    assert insight.original_text == "Shall I book you in?"
    lesson = insight_teach(insight=insight, actor=owner, at=LATER, should_have_said="What would help you decide?")
    assert lesson.trigger == "maybe" and lesson.incorrect_response == "Shall I book you in?"
