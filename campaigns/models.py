from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from clients.base import CreatedModel, TimestampedModel
from leads.models import Dataset, Lead


class Conversation(TimestampedModel):
    """The one message thread of a lead (seed `conversations`)."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"
        COMPLETED = "completed", "Completed"

    lead = models.OneToOneField(Lead, on_delete=models.CASCADE, related_name="conversation")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="conversations")

    # Defaults, not auto_now_add, so an injected clock (run_cadence --at) is kept.
    started_at = models.DateTimeField(default=timezone.now, db_default=Now())
    last_message_at = models.DateTimeField(default=timezone.now, db_default=Now())
    message_count = models.IntegerField(default=0)

    status = models.TextField(choices=Status.choices, default=Status.ACTIVE)

    sentiment = models.TextField(blank=True, null=True)
    quality_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    needs_review = models.BooleanField(default=False)
    # Sophie handed the lead to a person: she stays silent for it until staff clear this in the inbox.
    handoff_at = models.DateTimeField(null=True, blank=True)
    handoff_reason = models.TextField(blank=True, default="")
    # A prompt trial this conversation takes part in (sophie.PromptTrial's id: campaigns may not point into
    # sophie, so a plain id) and its arm, stored once so a lead never switches arm (docs/prompts.md).
    trial_id = models.UUIDField(null=True, blank=True)
    trial_arm = models.TextField(blank=True, default="", db_default="")

    class Meta:
        db_table = "conversations"
        indexes = [
            models.Index(fields=["needs_review"], name="idx_conversations_needs_review"),
            models.Index(fields=["last_message_at"], name="idx_conversations_last_msg_at"),
            models.Index(fields=["trial_id"], name="idx_conversations_trial", condition=Q(trial_id__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"Conversation with {self.lead}"


class Message(TimestampedModel):
    """One SMS in or out (seed `messages`); outbound rows are the outbox."""

    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Outbound"
        INBOUND = "inbound", "Inbound"

    class Type(models.TextChoices):
        M1 = "M1", "M1"
        M2 = "M2", "M2"
        M3 = "M3", "M3"
        REPLY = "reply", "Reply"
        NURTURE = "nurture", "Nurture"
        OPT_OUT_CONFIRMATION = "opt_out_confirmation", "Opt-out confirmation"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        UNKNOWN = "unknown", "Unknown (being reconciled)"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"
        # A planned AI reply: `scheduled` waits for `due_at` (the text is written then), `draft` waits for staff.
        SCHEDULED = "scheduled", "Scheduled"
        DRAFT = "draft", "Draft"

    class FeedbackStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DISMISSED = "dismissed", "Dismissed"
        IMPROVED = "improved", "Improved"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="messages")

    content = models.TextField()
    direction = models.TextField(choices=Direction.choices)
    message_type = models.TextField(choices=Type.choices, null=True, blank=True)

    from_number = models.TextField(blank=True, null=True)
    to_number = models.TextField(blank=True, null=True)

    status = models.TextField(choices=Status.choices, default=Status.PENDING)
    twilio_sid = models.TextField(blank=True, null=True, unique=True)
    twilio_status = models.TextField(blank=True, null=True)
    error_code = models.TextField(blank=True, null=True)
    error_message = models.TextField(blank=True, null=True)

    # Outbox bookkeeping (docs/architecture.md §4 mechanics): tries so far and when to look again.
    queued_at = models.DateTimeField(null=True, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True, help_text="When the last send attempt began.")
    answered_at = models.DateTimeField(
        null=True, blank=True, help_text="When the provider answered (or the call gave up on) the last send attempt."
    )
    attempts = models.IntegerField(default=0)
    unknown_count = models.IntegerField(default=0, help_text="Times the outcome of a send was unknown.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a planned AI reply is written and handed to the outbox (status scheduled).
    due_at = models.DateTimeField(null=True, blank=True)

    # Set when the transport accepts the message, never at queueing (seed fault).
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    ai_generated = models.BooleanField(default=False)
    # The user who wrote a staff reply; null for the cadence, Sophie and inbound texts.
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ai_quality_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    ai_feedback = models.TextField(blank=True, null=True)
    ai_feedback_status = models.TextField(choices=FeedbackStatus.choices, blank=True, null=True)
    # An inbound reply's reading (opt_out, status, intent, sentiment, confidence, reason), set by Sophie.
    classification = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "messages"
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "message_type"],
                condition=Q(message_type__in=["M1", "M2", "M3"]),
                name="messages_one_cadence_step_per_lead",
            ),
            # One reply per burst: a later text from the lead moves the planned reply, never adds one.
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(status__in=["scheduled", "draft"]),
                name="messages_one_planned_reply_per_conversation",
            ),
        ]
        indexes = [
            models.Index(fields=["direction"], name="idx_messages_direction"),
            models.Index(fields=["sent_at"], name="idx_messages_sent_at"),
            models.Index(
                fields=["status", "next_attempt_at"],
                name="idx_messages_outbox",
                condition=Q(status__in=["pending", "sending", "unknown"]),
            ),
            models.Index(fields=["queued_at"], name="idx_messages_queued_at", condition=Q(direction="outbound")),
            models.Index(fields=["due_at"], name="idx_messages_planned_due", condition=Q(status="scheduled")),
            models.Index(
                fields=["sending_at"],
                name="idx_messages_sending_at",
                condition=Q(direction="outbound", sending_at__isnull=False),
            ),
            # The inbox's unread texts (the nav counts them on every page): a small index, read_at is set on opening.
            models.Index(
                fields=["lead"], name="idx_messages_unread", condition=Q(direction="inbound", read_at__isnull=True)
            ),
            models.Index(
                fields=["ai_feedback_status"],
                name="idx_messages_ai_feedback_st",
                condition=Q(ai_feedback__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_type or ''} to {self.to_number}"


class MessageStatsHour(models.Model):
    """Per dataset and UTC hour: texts sent, delivered, failed, and replies received. Kept by the
    triggers on `messages` (campaigns/message_stats.py); never written by Django."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+", db_index=False)
    hour = models.DateTimeField()
    sent = models.IntegerField(default=0)
    delivered = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    replies = models.IntegerField(default=0)

    class Meta:
        db_table = "message_stats_hourly"
        constraints = [models.UniqueConstraint(fields=["dataset", "hour"], name="message_stats_hourly_unique")]

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.hour:%Y-%m-%d %H:00}"


class MessageStatusEvent(CreatedModel):
    """Every Twilio status callback, kept once per (sid, status)."""

    message = models.ForeignKey(Message, null=True, on_delete=models.CASCADE, related_name="status_events")
    twilio_sid = models.TextField()
    status = models.TextField()
    error_code = models.TextField(blank=True, null=True)
    payload = models.JSONField(default=dict)

    class Meta:
        db_table = "message_status_events"
        constraints = [
            models.UniqueConstraint(fields=["twilio_sid", "status"], name="message_status_event_unique"),
        ]


class InboundSms(CreatedModel):
    """One text a lead (or anyone) sent to a client's number, stored before any work is done.

    The webhook writes the row and answers; `process_inbound` turns it into an inbound Message on the
    lead's conversation. `processed_at` is set by processing only, for every outcome, so a row the
    broker or a dead worker lost is found again by the sweep.
    """

    class Outcome(models.TextChoices):
        MATCHED = "matched", "Matched to a lead"
        UNMATCHED = "unmatched", "No lead with this number"
        OPTED_OUT = "opted_out", "Opted out"
        OPTED_IN = "opted_in", "Opted back in"
        FOREIGN_TO = "foreign_to", "Sent to a number that is not ours"
        AUTO_REPLY = "auto_reply", "Carrier auto-reply"
        ERROR = "error", "Could not be processed"

    message_sid = models.TextField(unique=True)
    from_number = models.TextField(help_text="E.164 when it is a phone number; as received otherwise.")
    to_number = models.TextField(blank=True, default="")
    body = models.TextField(blank=True, default="")
    media = models.JSONField(default=list, blank=True, help_text="[{url, content_type}] of MMS attachments.")
    params = models.JSONField(default=dict, help_text="Every parameter Twilio posted.")
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    outcome = models.TextField(choices=Outcome.choices, blank=True, default="")
    error = models.TextField(blank=True, default="")
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_sms")
    message = models.OneToOneField(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_sms"
    )

    class Meta:
        db_table = "inbound_sms"
        verbose_name, verbose_name_plural = "inbound text", "inbound texts"
        indexes = [
            models.Index(fields=["received_at"], name="idx_inbound_unprocessed", condition=Q(processed_at=None)),
            models.Index(fields=["from_number", "received_at"], name="idx_inbound_from_received"),
        ]

    def __str__(self) -> str:
        return f"{self.from_number} {self.message_sid}"


class SendingHealth(models.Model):
    """A dataset's current run of transient provider failures (docs/outbox.md, "Provider outages").

    Every send attempt that fails without a definite answer (429, 5xx, a refused or broken connection)
    adds one; any accepted send clears it. Five in a row pause the dataset's campaign with the reason.
    """

    dataset = models.OneToOneField(Dataset, primary_key=True, on_delete=models.CASCADE, related_name="sending_health")
    failures = models.IntegerField(default=0, help_text="Transient send failures in a row.")
    failing_since = models.DateTimeField(null=True, blank=True, help_text="The first failure of the run.")
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "sending_health"

    def __str__(self) -> str:
        return f"{self.failures} failures in a row for dataset {self.dataset_id}"
