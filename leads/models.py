from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import Exists, OuterRef, Q

from clients.base import CreatedModel, TimestampedModel
from leads import eligibility

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DEFAULT_REQUIRED_FIELDS = ["first_name", "last_name", "phone_number", "email"]


def default_sending_days() -> list[str]:
    return WEEKDAYS[:5]


def default_required_fields() -> list[str]:
    return list(DEFAULT_REQUIRED_FIELDS)


class CampaignSettings(TimestampedModel):
    """A dataset's configuration (seed `campaign_settings`); templates are copied, never used live."""

    class DelayType(models.TextChoices):
        REAL_HOURS = "real_hours", "Real hours"
        BUSINESS_HOURS = "business_hours", "Business hours (inside the sending window)"

    class DuplicateAction(models.TextChoices):
        FLAG = "flag", "Flag (create, never message)"
        SKIP = "skip", "Skip"
        MERGE = "merge", "Merge into the existing lead"
        KEEP_BOTH = "keep_both", "Keep both"

    class AssignmentRule(models.TextChoices):
        ROUND_ROBIN = "round_robin", "Round robin"
        TERRITORY = "territory", "Territory"
        MANUAL = "manual", "Manual"

    class BankHolidayRegion(models.TextChoices):
        NONE = "", "Do not skip bank holidays"
        ENGLAND_WALES = "ENG", "England & Wales"
        SCOTLAND = "SCT", "Scotland"
        NORTHERN_IRELAND = "NIR", "Northern Ireland"

    name = models.TextField(blank=True, null=True)
    description = models.TextField(blank=True, null=True)

    m1_message = models.TextField()
    m2_message = models.TextField(blank=True, null=True)
    m3_message = models.TextField(blank=True, null=True)
    m2_delay_hours = models.IntegerField(default=48)
    m3_delay_hours = models.IntegerField(default=72)

    delay_respect_sending_hours = models.BooleanField(default=True)
    delay_type = models.TextField(choices=DelayType.choices, default=DelayType.REAL_HOURS)

    sending_enabled = models.BooleanField(default=True)
    sending_hours_start = models.TimeField(null=True, blank=True)
    sending_hours_end = models.TimeField(null=True, blank=True)
    sending_days = models.JSONField(default=default_sending_days)
    sending_timezone = models.TextField(default="Europe/London")
    bank_holiday_region = models.TextField(choices=BankHolidayRegion.choices, default="", blank=True)

    messages_per_minute = models.IntegerField(default=1, null=True, blank=True)
    messages_per_hour = models.IntegerField(default=30, null=True, blank=True)
    messages_per_day = models.IntegerField(default=500, null=True, blank=True)

    class AiMode(models.TextChoices):
        OFF = "off", "Off: staff answer every reply"
        SUGGEST = "suggest", "Suggest: Sophie drafts, staff send"
        AUTO = "auto", "Auto: Sophie answers"

    # `ai_mode` decides; the seed's `ai_response_enabled` is kept equal to "not off" by the settings service.
    ai_mode = models.TextField(choices=AiMode.choices, default=AiMode.AUTO)
    ai_response_enabled = models.BooleanField(default=True)
    ai_max_messages_per_lead = models.IntegerField(default=10)
    ai_response_delay_seconds = models.IntegerField(default=60)
    ai_response_delay_random = models.BooleanField(default=False)
    ai_multiple_messages_wait_seconds = models.IntegerField(default=60)

    respond_to_inbound_24_7 = models.BooleanField(default=True)
    respect_schedule_strictly = models.BooleanField(default=False)

    silence_timeout_days = models.IntegerField(default=28)
    silence_nudge_enabled = models.BooleanField(default=False)
    silence_nudge_days = models.IntegerField(default=7)
    silence_nudge_message = models.TextField(blank=True, null=True)

    duplicate_action = models.TextField(choices=DuplicateAction.choices, default=DuplicateAction.FLAG)

    hot_lead_notification = models.BooleanField(default=True)
    hot_lead_auto_assign = models.BooleanField(default=False)
    hot_lead_assignment_rule = models.TextField(choices=AssignmentRule.choices, default=AssignmentRule.ROUND_ROBIN)
    # [{"prefix": "LS6", "user_id": "<uuid>"}]: a hot lead whose postcode starts with the prefix goes to that rep.
    territory_rules = models.JSONField(default=list, blank=True)
    # The rep the round robin gave the last hot lead to, so the next one is fair across restarts.
    round_robin_last_user_id = models.UUIDField(null=True, blank=True, editable=False)

    auto_status_updates = models.BooleanField(default=True)

    auto_normalize_uk_numbers = models.BooleanField(default=True)
    allow_international = models.BooleanField(default=False)

    required_fields = models.JSONField(default=default_required_fields)

    twilio_number = models.TextField(blank=True, null=True)
    cal_booking_link = models.TextField(blank=True, null=True)

    agent_name = models.TextField(default="Sophie")
    auto_append_opt_out = models.BooleanField(
        default=True, help_text='Append "Reply STOP to opt out" when a message has no opt-out line.'
    )

    is_template = models.BooleanField(default=False)

    class Meta:
        db_table = "campaign_settings"
        verbose_name_plural = "campaign settings"
        indexes = [models.Index(fields=["is_template"], name="idx_campaign_settings_is_templ")]

    def __str__(self) -> str:
        return self.name or f"Settings {self.pk}"


class Dataset(TimestampedModel):
    """A batch of leads (seed `datasets`); it carries its own campaign."""

    class CampaignStatus(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"

    name = models.TextField(unique=True)
    description = models.TextField(blank=True, null=True)
    source = models.TextField(blank=True, null=True)

    uploaded_file_url = models.TextField(blank=True, null=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_column="uploaded_by",
        related_name="+",
    )
    column_mapping = models.JSONField(null=True, blank=True)

    # Kept by statement-level triggers on `leads` (see leads/migrations/0002).
    total_leads = models.IntegerField(default=0, db_default=0, editable=False)
    active_leads = models.IntegerField(default=0, db_default=0, editable=False)
    hot_leads = models.IntegerField(default=0, db_default=0, editable=False)
    converted_leads = models.IntegerField(default=0, db_default=0, editable=False)
    # The dashboard's counters (leads/counters.py says what each counts), kept by the same triggers.
    contacted_leads = models.IntegerField(default=0, db_default=0, editable=False)
    replied_leads = models.IntegerField(default=0, db_default=0, editable=False)
    booked_leads = models.IntegerField(default=0, db_default=0, editable=False)
    opted_out_leads = models.IntegerField(default=0, db_default=0, editable=False)
    # The not-archived leads split into parts that add up to `active_leads`.
    removed_leads = models.IntegerField(default=0, db_default=0, editable=False)
    send_failed_leads = models.IntegerField(default=0, db_default=0, editable=False)
    no_sms_leads = models.IntegerField(default=0, db_default=0, editable=False)
    duplicate_leads = models.IntegerField(default=0, db_default=0, editable=False)
    replied_open_leads = models.IntegerField(default=0, db_default=0, editable=False)
    in_cadence_leads = models.IntegerField(default=0, db_default=0, editable=False)
    not_started_leads = models.IntegerField(default=0, db_default=0, editable=False)
    waiting_leads = models.IntegerField(default=0, db_default=0, editable=False)

    campaign_status = models.TextField(choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    campaign_start_date = models.DateTimeField(null=True, blank=True)
    campaign_end_date = models.DateTimeField(null=True, blank=True)
    campaign_settings = models.ForeignKey(
        CampaignSettings, null=True, blank=True, on_delete=models.PROTECT, related_name="datasets"
    )
    campaign_paused_reason = models.TextField(blank=True, default="")

    auto_archive_after_days = models.IntegerField(default=28)
    archived = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "datasets"
        indexes = [
            models.Index(fields=["campaign_status"], name="idx_datasets_campaign_status"),
            models.Index(fields=["created_at"], name="idx_datasets_created_at"),
        ]

    def __str__(self) -> str:
        return self.name


class LeadQuerySet(models.QuerySet):
    def messageable(self, *, purpose: str) -> "LeadQuerySet":
        """The leads that may receive a message for `purpose` (the rules in leads/eligibility.py)."""
        leads = self
        for rule in eligibility.rules_for(purpose):
            if rule.field == eligibility.SUPPRESSED:
                listed = Exists(Suppression.objects.filter(phone_number=OuterRef("phone_number")))
                leads = leads.filter(~listed if rule.value is False else listed)
            else:
                leads = leads.filter(**{rule.lookup: rule.value})
        return leads


class Lead(TimestampedModel):
    """One contact in a dataset (seed `leads`)."""

    class ContactStatus(models.TextChoices):
        READY = "READY", "Ready"
        CONTACTED_1 = "CONTACTED_1", "Contacted (M1)"
        CONTACTED_2 = "CONTACTED_2", "Contacted (M2)"
        CONTACTED_3 = "CONTACTED_3", "Contacted (M3)"
        HOT = "HOT", "Hot"
        WARM = "WARM", "Warm"
        COLD = "COLD", "Cold"
        CALL_BOOKED = "CALL_BOOKED", "Call booked"
        CONVERTED = "CONVERTED", "Converted"
        REMOVED = "REMOVED", "Removed"
        ARCHIVED = "ARCHIVED", "Archived"
        SEND_FAILED = "SEND_FAILED", "Sending failed"  # the provider refused its text for good

    class Sentiment(models.TextChoices):
        POSITIVE = "POSITIVE", "Positive"
        NEGATIVE = "NEGATIVE", "Negative"
        NEUTRAL = "NEUTRAL", "Neutral"
        UNCLEAR = "UNCLEAR", "Unclear"
        HOT = "HOT", "Hot"

    class Step(models.TextChoices):
        M1 = "M1", "M1"
        M2 = "M2", "M2"
        M3 = "M3", "M3"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="leads")

    first_name = models.TextField()
    last_name = models.TextField(blank=True, null=True)
    phone_number = models.TextField(help_text="E.164, e.g. +447911123456")
    email = models.TextField(blank=True, null=True)
    postcode = models.TextField(blank=True, null=True)

    inquiry_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, null=True)
    custom_fields = models.JSONField(
        default=dict, db_default={}, blank=True, help_text="Unmapped columns of the upload."
    )

    # db_default too: bulk COPY writes only the columns a file has.
    contact_status = models.TextField(
        choices=ContactStatus.choices, default=ContactStatus.READY, db_default=ContactStatus.READY
    )
    lead_sentiment = models.TextField(choices=Sentiment.choices, null=True, blank=True)

    m1_sent_at = models.DateTimeField(null=True, blank=True)
    m2_sent_at = models.DateTimeField(null=True, blank=True)
    m3_sent_at = models.DateTimeField(null=True, blank=True)
    reply_received_at = models.DateTimeField(null=True, blank=True)
    # Set when the lead's number opted out (campaigns.suppression), cleared when it opts back in.
    opted_out_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)

    call_booked = models.BooleanField(default=False, db_default=False)
    call_booked_time = models.DateTimeField(null=True, blank=True)
    cal_booking_id = models.TextField(blank=True, null=True)
    cal_booking_url = models.TextField(blank=True, null=True)
    # The lead's short booking link is /b/<booking_token> (docs/bookings.md); given on first use.
    booking_token = models.CharField(max_length=16, unique=True, null=True, blank=True)
    install_date = models.DateField(null=True, blank=True)

    manual_mode = models.BooleanField(default=False, db_default=False)
    manual_mode_activated_at = models.DateTimeField(null=True, blank=True)
    archived = models.BooleanField(default=False, db_default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_column="assigned_to",
        db_index=False,  # idx_leads_assigned_to below
        related_name="+",
    )

    latest_lead_reply = models.TextField(blank=True, null=True)
    conversation_summary = models.TextField(blank=True, null=True)
    total_messages = models.IntegerField(default=0, db_default=0)

    last_synced_at = models.DateTimeField(null=True, blank=True)
    row_number = models.IntegerField(null=True, blank=True)

    # Import outcome: a number that cannot take texts, and a lead flagged as a duplicate of another.
    sms_capable = models.BooleanField(default=True, db_default=True)
    sms_capable_reason = models.TextField(blank=True, default="", db_default="")
    is_duplicate = models.BooleanField(default=False, db_default=False)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )

    # The upload that created the lead: its timeline's "imported" entry is read from it (docs/importing.md), so
    # an import writes no event row per lead. No foreign-key constraint or index: an import checks nothing per
    # row at commit, and uploads are never deleted (their files expire, the rows stay).
    upload = models.ForeignKey(
        "Upload",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )

    # The cadence's next step and when it is due; both cleared when the lead leaves the cadence.
    next_step = models.TextField(choices=Step.choices, null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "leads"
        constraints = [
            models.UniqueConstraint(fields=["dataset", "phone_number"], name="leads_phone_dataset_unique"),
        ]
        indexes = [
            models.Index(fields=["contact_status"], name="idx_leads_contact_status"),
            models.Index(fields=["lead_sentiment"], name="idx_leads_lead_sentiment"),
            models.Index(fields=["phone_number"], name="idx_leads_phone_number"),
            models.Index(fields=["call_booked"], name="idx_leads_call_booked"),
            models.Index(fields=["archived"], name="idx_leads_archived"),
            models.Index(fields=["manual_mode"], name="idx_leads_manual_mode"),
            models.Index(fields=["reply_received_at"], name="idx_leads_reply_received_at"),
            models.Index(fields=["assigned_to"], name="idx_leads_assigned_to"),
            GinIndex(SearchVector("first_name", "last_name", config="english"), name="idx_leads_name_search"),
            # The leads table's sorts, each with the id as tie-breaker for keyset pages (leads/table.py).
            models.Index(fields=["last_message_at", "id"], name="idx_leads_keyset_last_message"),
            models.Index(fields=["created_at", "id"], name="idx_leads_keyset_created"),
            models.Index(fields=["first_name", "id"], name="idx_leads_keyset_first_name"),
            # A dataset's leads of one status in the default sort (the table's and the API's commonest filter,
            # e.g. a dataset's HOT leads): a range scan instead of walking every lead by last message.
            models.Index(
                fields=["dataset", "contact_status", "last_message_at", "id"], name="idx_leads_dataset_status_last"
            ),
            models.Index(fields=["dataset", "due_at"], name="idx_leads_due", condition=Q(due_at__isnull=False)),
            # The tick's other questions stay index-sized too: is anything still in the cadence,
            # and who has been silent long enough to go cold or get the nudge.
            models.Index(fields=["dataset"], name="idx_leads_in_cadence", condition=Q(next_step__isnull=False)),
            models.Index(
                fields=["dataset", "last_message_at"],
                name="idx_leads_silent",
                condition=Q(
                    next_step__isnull=True,
                    reply_received_at__isnull=True,
                    contact_status__in=["CONTACTED_1", "CONTACTED_2", "CONTACTED_3"],
                ),
            ),
        ]

    objects = LeadQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name or ''} ({self.phone_number})".replace("  ", " ")

    def not_messageable_reason(self, *, purpose: str, suppressed: bool) -> str | None:
        """Why this lead may not receive a message for `purpose`, or None: the same rules as `messageable`."""
        values = {name: getattr(self, name) for name in eligibility.LEAD_FIELDS}
        rule = eligibility.first_failed(purpose, {**values, eligibility.SUPPRESSED: suppressed})
        if rule is None:
            return None
        return rule.reason.format(status=self.get_contact_status_display().lower())

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name or ''}".strip()


class LeadStatsHour(models.Model):
    """Per dataset and UTC hour: leads added, and the cohort first texted that hour with what became of it.
    Kept by the triggers on `leads` (leads/counters.py); never written by Django."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+", db_index=False)
    hour = models.DateTimeField()
    added = models.IntegerField(default=0)
    contacted = models.IntegerField(default=0)
    replied = models.IntegerField(default=0)
    hot = models.IntegerField(default=0)
    booked = models.IntegerField(default=0)
    converted = models.IntegerField(default=0)
    opted_out = models.IntegerField(default=0)

    class Meta:
        db_table = "lead_stats_hourly"
        constraints = [models.UniqueConstraint(fields=["dataset", "hour"], name="lead_stats_hourly_unique")]

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.hour:%Y-%m-%d %H:00}"


class Upload(CreatedModel):
    """A file staff uploaded (seed `uploads`); the original stays in the csv_uploads bucket."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        MAPPING = "mapping", "Mapping"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_column="uploaded_by",
        related_name="+",
    )
    filename = models.TextField()
    file_url = models.TextField(help_text="Path in the client's csv_uploads storage.")
    file_size = models.IntegerField(null=True, blank=True)
    file_type = models.TextField(blank=True, null=True)

    status = models.TextField(choices=Status.choices, default=Status.PENDING)
    rows_detected = models.IntegerField(null=True, blank=True)
    rows_imported = models.IntegerField(null=True, blank=True)
    errors = models.JSONField(null=True, blank=True, help_text='Why the file failed as a whole: {"file": message}.')

    # What the file holds (read when it is received) and the wizard's choices about it.
    headers = ArrayField(models.TextField(), default=list, blank=True, help_text="Column names, made unique.")
    encoding = models.TextField(null=True, blank=True, help_text="CSV only, e.g. utf-8-sig, cp1252.")
    delimiter = models.TextField(null=True, blank=True, help_text="CSV only.")
    column_mapping = models.JSONField(null=True, blank=True, help_text="Column name -> lead field, once chosen.")
    summary = models.JSONField(null=True, blank=True, help_text="What the import did (counts and examples).")

    dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text='Who ran the import: the actor of its leads\' "imported" timeline entries.',
    )

    queued_at = models.DateTimeField(null=True, blank=True, help_text="When the import was handed to a worker.")
    file_expired_at = models.DateTimeField(
        null=True, blank=True, help_text="When the stored file was deleted by the retention period (the figures stay)."
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    processing_time = models.IntegerField(null=True, blank=True, help_text="Seconds.")

    class Meta:
        db_table = "uploads"
        indexes = [
            models.Index(fields=["status"], name="idx_uploads_status"),
            models.Index(fields=["-created_at"], name="idx_uploads_created_at"),
        ]

    def __str__(self) -> str:
        return self.filename


class LeadEvent(CreatedModel):
    """A lead's activity timeline; written only through `leads.events`."""

    class Type(models.TextChoices):
        IMPORTED = "imported", "Imported"
        MERGED = "merged", "Merged from an upload"
        QUEUED = "queued", "Message queued"
        SENT = "sent", "Message sent"
        DELIVERED = "delivered", "Message delivered"
        FAILED = "failed", "Message failed"
        CADENCE_LEFT = "cadence_left", "Left the cadence"
        REPLIED = "replied", "Replied"
        STATUS_CHANGED = "status_changed", "Status changed"
        ASSIGNED = "assigned", "Assigned"
        MANUAL_MODE = "manual_mode", "Manual mode changed"
        SUPPRESSED = "suppressed", "Number suppressed"
        ARCHIVED = "archived", "Archived"
        UNARCHIVED = "unarchived", "Taken out of the archive"
        CALL_BOOKED = "call_booked", "Call booked"
        CALL_UNBOOKED = "call_unbooked", "Call booking cleared"
        NOTE = "note", "Note"
        HANDOFF = "handoff", "Handed to a person"
        HANDOFF_CLEARED = "handoff_cleared", "Hand-off cleared"
        AI_REPLY = "ai_reply", "Sophie's reply"
        ERASED = "erased", "Personal data erased"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events", db_index=False)
    event_type = models.TextField(choices=Type.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "lead_events"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["lead", "created_at"], name="idx_lead_events_lead")]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} ({self.created_at:%Y-%m-%d %H:%M})"


class Suppression(CreatedModel):
    """A number the client must never text again."""

    class Source(models.TextChoices):
        OPT_OUT = "opt_out", "Opted out by reply"
        IMPORT = "import", "Imported opt-out list"
        STAFF = "staff", "Added by staff"
        TWILIO_21610 = "twilio_21610", "Twilio 21610 (unsubscribed)"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        ERASURE = "erasure", "Erased on request (GDPR)"

    phone_number = models.TextField(unique=True, help_text="E.164")
    reason = models.TextField(blank=True, default="")
    source = models.TextField(choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "suppressions"

    def __str__(self) -> str:
        return self.phone_number


class BookingEvent(CreatedModel):
    """One Cal.com webhook delivery, kept once per (uid, trigger) whatever became of it (docs/bookings.md)."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", "Applied to the lead"
        UNMATCHED = "unmatched", "No lead matched"
        WAITING = "waiting", "Cancelled before we heard of the booking"
        IGNORED = "ignored", "Nothing to change"

    uid = models.TextField()
    trigger_event = models.TextField()
    payload = models.JSONField(default=dict)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="booking_events")
    start_time = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(choices=Outcome.choices)
    detail = models.TextField(blank=True, default="")

    class Meta:
        db_table = "booking_events"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["uid", "trigger_event"], name="booking_events_uid_trigger_unique"),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="idx_booking_events_open",
                condition=Q(outcome__in=["unmatched", "waiting"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trigger_event} {self.uid}"


class WebhookDelivery(CreatedModel):
    """One outbound event to the client's webhook URL and its delivery (`leads/outbound.py`). `payload` is the
    exact body sent, so every retry sends the same bytes."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    # clock_timestamp(), not now(): events written in one transaction keep their order per lead.
    created_at = models.DateTimeField(db_default=models.Func(function="clock_timestamp"), editable=False)
    event_id = models.UUIDField(unique=True)
    event_type = models.TextField()
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    payload = models.JSONField()
    status = models.TextField(choices=Status.choices, default=Status.PENDING)
    attempts = models.IntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    last_status_code = models.IntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "webhook_deliveries"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="idx_webhook_deliveries_due"),
            models.Index(fields=["lead", "created_at"], name="idx_webhook_deliveries_lead"),
            models.Index(fields=["-created_at"], name="idx_webhook_deliveries_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.status})"
