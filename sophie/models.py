import copy

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models

from campaigns.models import Conversation, Message
from clients.base import CreatedModel, TimestampedModel
from leads.models import Dataset


class Lesson(TimestampedModel):
    """Something Sophie has been taught (seed `lessons`)."""

    class Type(models.TextChoices):
        OBJECTION_HANDLING = "objection_handling", "Objection handling"
        DOS_DONTS = "dos_donts", "Dos and don'ts"
        EXAMPLE_GOOD = "example_good", "Good example"
        EXAMPLE_BAD = "example_bad", "Bad example"
        BLACKLIST_WORD = "blacklist_word", "Blacklisted word"
        NEVER_RULE = "never_rule", "Never rule"
        BEST_PRACTICE = "best_practice", "Best practice"

    class Source(models.TextChoices):
        SOPHIE_SUGGESTION = "sophie_suggestion", "Sophie's suggestion"
        USER_TAUGHT = "user_taught", "Taught by staff"
        IMPORTED = "imported", "Imported"
        SYSTEM = "system", "Platform default"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"
        TESTING = "testing", "Testing"

    lesson_type = models.TextField(choices=Type.choices)
    title = models.TextField()
    description = models.TextField(blank=True, null=True)

    trigger = models.TextField(blank=True, null=True)
    correct_response = models.TextField(blank=True, null=True)
    incorrect_response = models.TextField(blank=True, null=True)
    reasoning = models.TextField(blank=True, null=True)
    example_conversation = models.JSONField(null=True, blank=True)

    tags = ArrayField(models.TextField(), default=list, blank=True)
    priority = models.IntegerField(default=0)

    times_applied = models.IntegerField(default=0)
    success_rate = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)

    source = models.TextField(choices=Source.choices, null=True, blank=True)
    source_message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_column="created_by",
        related_name="+",
    )

    status = models.TextField(choices=Status.choices, default=Status.ACTIVE)

    class Meta:
        db_table = "lessons"
        indexes = [
            models.Index(fields=["lesson_type"], name="idx_lessons_lesson_type"),
            models.Index(fields=["status"], name="idx_lessons_status"),
            GinIndex(fields=["tags"], name="idx_lessons_tags"),
            models.Index(fields=["-priority"], name="idx_lessons_priority"),
            GinIndex(SearchVector("title", "description", config="english"), name="idx_lessons_search"),
        ]

    def __str__(self) -> str:
        return self.title


class PromptTemplate(TimestampedModel):
    """A starting point for a prompt (seed `prompt_templates`); system ones are copied into every client."""

    class Category(models.TextChoices):
        SOLAR_DBR_RECENT = "solar_dbr_recent", "Solar DBR — recent leads"
        SOLAR_DBR_OLD = "solar_dbr_old", "Solar DBR — old database"
        SOLAR_QUOTE_FOLLOWUP = "solar_quote_followup", "Solar quote follow-up"
        GENERAL = "general", "General"

    class UseCase(models.TextChoices):
        RECENT_LEADS = "recent_leads", "Recent leads"
        OLD_DATABASE = "old_database", "Old database"
        QUOTE_FOLLOWUP = "quote_followup", "Quote follow-up"

    name = models.TextField()
    description = models.TextField()
    category = models.TextField(choices=Category.choices)
    template_structure = models.JSONField()

    industry = models.TextField(default="solar")
    use_case = models.TextField(choices=UseCase.choices, blank=True, null=True)
    best_for = models.TextField(blank=True, null=True)

    included_lessons_count = models.IntegerField(default=0)
    success_rate = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    default_wizard_answers = models.JSONField(null=True, blank=True)
    times_used = models.IntegerField(default=0)

    is_active = models.BooleanField(default=True)
    is_system_template = models.BooleanField(default=True)

    class Meta:
        db_table = "prompt_templates"
        indexes = [
            models.Index(fields=["category"], name="idx_prompt_templates_category"),
            models.Index(fields=["is_active"], name="idx_prompt_templates_is_active"),
            models.Index(fields=["is_system_template"], name="idx_prompt_templates_is_system"),
        ]

    def __str__(self) -> str:
        return self.name


class PromptImmutable(Exception):
    """Someone tried to change the text of a live or archived prompt row (docs/prompts.md)."""


class Prompt(TimestampedModel):
    """One version of a system prompt for Sophie (seed `prompts`); services in sophie/prompts.py write them."""

    class CreatedFrom(models.TextChoices):
        WIZARD = "wizard", "Wizard"
        TEMPLATE = "template", "Template"
        MANUAL = "manual", "Manual"
        COPIED = "copied", "Copied"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        LIVE = "live", "Live"
        ARCHIVED = "archived", "Archived"

    dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.CASCADE, related_name="prompts")
    name = models.TextField()
    description = models.TextField(blank=True, null=True)

    prompt_structure = models.JSONField()
    compiled_prompt = models.TextField()

    created_from = models.TextField(choices=CreatedFrom.choices, default=CreatedFrom.WIZARD)
    template = models.ForeignKey(
        PromptTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="prompts"
    )
    copied_from_prompt = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="copies"
    )
    wizard_answers = models.JSONField(null=True, blank=True)

    applied_lessons = ArrayField(models.UUIDField(), default=list, blank=True)
    lessons_count = models.IntegerField(default=0)
    manual_edits_count = models.IntegerField(default=0)

    version = models.TextField(default="1.0")
    version_number = models.IntegerField(default=1)
    status = models.TextField(choices=Status.choices, default=Status.DRAFT)
    is_live = models.BooleanField(default=False)
    previous_version = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="next_versions"
    )

    changes_summary = models.TextField(blank=True, null=True)
    change_reason = models.TextField(blank=True, null=True)

    conversations_count = models.IntegerField(default=0)
    booking_rate = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    avg_sentiment_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    performance_vs_previous = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)

    deployed_at = models.DateTimeField(null=True, blank=True)
    deployed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_column="deployed_by",
        related_name="+",
    )

    class Meta:
        db_table = "prompts"
        constraints = [
            # Exactly one live version per dataset, and one client default (dataset NULL).
            models.UniqueConstraint(
                fields=["dataset"],
                condition=models.Q(is_live=True),
                nulls_distinct=False,
                name="prompts_one_live_per_dataset",
            ),
            models.UniqueConstraint(
                fields=["dataset", "version_number"], nulls_distinct=False, name="prompts_version_number_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="idx_prompts_status"),
            models.Index(fields=["is_live"], name="idx_prompts_is_live"),
            models.Index(fields=["-version_number"], name="idx_prompts_version_number"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @classmethod
    def from_db(cls, db, field_names, values):
        row = super().from_db(db, field_names, values)
        # What was read, so save() can refuse to rewrite a published version's text.
        row._loaded = row._text_state()
        return row

    def _text_state(self) -> tuple:
        # A deep copy: editing the loaded dict in place must still count as a change.
        fields = self.__dict__
        return (fields.get("status"), copy.deepcopy(fields.get("prompt_structure")), fields.get("compiled_prompt"))

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_loaded", None)
        published = loaded and loaded[0] in (self.Status.LIVE, self.Status.ARCHIVED)
        if published and (self.prompt_structure, self.compiled_prompt) != loaded[1:]:
            raise PromptImmutable(
                f"{self.name} v{self.version} is {loaded[0]}: its text never changes. Make a new draft from it."
            )
        super().save(*args, **kwargs)
        self._loaded = self._text_state()


class PromptVersion(CreatedModel):
    """One change in a prompt's history (seed `prompt_versions`)."""

    class CreatedByType(models.TextChoices):
        USER = "user", "User"
        SOPHIE = "sophie", "Sophie"
        SYSTEM = "system", "System"

    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="versions")
    version = models.TextField()
    version_number = models.IntegerField()
    changes = models.JSONField()
    changes_summary = models.TextField()
    performance_before = models.JSONField(null=True, blank=True)
    performance_after = models.JSONField(null=True, blank=True)
    lesson_applied = models.ForeignKey(Lesson, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_column="created_by",
        related_name="+",
    )
    created_by_type = models.TextField(choices=CreatedByType.choices, default=CreatedByType.USER)

    class Meta:
        db_table = "prompt_versions"
        indexes = [models.Index(fields=["-created_at"], name="idx_prompt_versions_created_at")]

    def __str__(self) -> str:
        return f"{self.prompt.name} v{self.version}"


class PromptTrial(TimestampedModel):
    """A draft version tried on a share of a dataset's new conversations beside the live one (docs/prompts.md).

    One running trial per dataset (partial unique constraint); a conversation's arm is stored on it
    (`campaigns.Conversation.trial_id` / `trial_arm`).
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"
        PROMOTED = "promoted", "Made live"

    class Arm(models.TextChoices):
        TRIAL = "trial", "Trial version"
        CONTROL = "control", "Live version"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="prompt_trials")
    candidate = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="trials")
    control = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="control_trials")
    share_percent = models.IntegerField()
    status = models.TextField(choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.TextField(blank=True, default="")

    class Meta:
        db_table = "prompt_trials"
        constraints = [
            models.UniqueConstraint(
                fields=["dataset"], condition=models.Q(status="running"), name="prompt_trials_one_running_per_dataset"
            ),
            models.CheckConstraint(
                condition=models.Q(share_percent__gte=1, share_percent__lte=99), name="prompt_trials_share_1_to_99"
            ),
        ]

    def __str__(self) -> str:
        return f"Trial of v{self.candidate.version} ({self.share_percent}%)"


class Insight(TimestampedModel):
    """Something Sophie noticed for staff to review (seed `sophie_insights`)."""

    class Type(models.TextChoices):
        MESSAGE = "message", "Message"
        CONVERSATION = "conversation", "Conversation"
        CAMPAIGN = "campaign", "Campaign"
        PATTERN = "pattern", "Pattern"

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        SUGGESTION = "suggestion", "Suggestion"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    class Category(models.TextChoices):
        TONE = "tone", "Tone"
        GRAMMAR = "grammar", "Grammar"
        OBJECTION = "objection", "Objection"
        TIMING = "timing", "Timing"
        SUCCESS_PATTERN = "success_pattern", "Success pattern"
        COMPLIANCE = "compliance", "Compliance"
        GUARDRAIL = "guardrail", "Guardrail"
        DELIVERY = "delivery", "Delivery"
        OPT_OUT = "opt_out", "Opt-out"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        VIEWED = "viewed", "Viewed"
        APPROVED_AND_LEARNED = "approved_and_learned", "Approved and learned"
        DISMISSED = "dismissed", "Dismissed"
        TAUGHT_SOPHIE = "taught_sophie", "Taught Sophie"

    OPEN = (Status.PENDING, Status.VIEWED)  # still in the review queue

    insight_type = models.TextField(choices=Type.choices)
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="insights")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="insights"
    )
    dataset = models.ForeignKey(Dataset, null=True, blank=True, on_delete=models.SET_NULL, related_name="insights")

    severity = models.TextField(choices=Severity.choices, default=Severity.INFO)
    category = models.TextField(choices=Category.choices, null=True, blank=True)
    title = models.TextField()
    description = models.TextField()
    suggestion = models.TextField(blank=True, null=True)
    original_text = models.TextField(blank=True, null=True)
    suggested_text = models.TextField(blank=True, null=True)

    affected_leads_count = models.IntegerField(default=1)
    related_lesson = models.ForeignKey(
        Lesson, null=True, blank=True, on_delete=models.SET_NULL, related_name="insights"
    )

    status = models.TextField(choices=Status.choices, default=Status.PENDING)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        db_column="reviewed_by",
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    user_feedback = models.TextField(blank=True, null=True)

    applied = models.BooleanField(default=False)
    applied_at = models.DateTimeField(null=True, blank=True)
    impact_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)

    # What was found, on what: "<rule>:<object id>". One open insight per finding (docs/learning.md).
    finding_key = models.TextField(blank=True, default="")

    class Meta:
        db_table = "sophie_insights"
        constraints = [
            models.UniqueConstraint(
                fields=["finding_key"],
                condition=models.Q(status__in=["pending", "viewed"]) & ~models.Q(finding_key=""),
                name="sophie_insights_one_open_finding",
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="idx_sophie_insights_status"),
            models.Index(fields=["severity"], name="idx_sophie_insights_severity"),
            models.Index(fields=["category"], name="idx_sophie_insights_category"),
            models.Index(fields=["-created_at"], name="idx_sophie_insights_created"),
        ]

    def __str__(self) -> str:
        return self.title


class AiReply(CreatedModel):
    """How Sophie wrote one AI message (one-to-one with it): campaigns' Message may not point into sophie."""

    class Action(models.TextChoices):
        SEND = "send", "Send"
        HANDOFF = "handoff", "Hand to a person"

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="ai_reply")
    prompt = models.ForeignKey(Prompt, null=True, blank=True, on_delete=models.SET_NULL, related_name="ai_replies")
    prompt_version_number = models.IntegerField(null=True, blank=True)
    backend = models.TextField()
    model = models.TextField(blank=True, default="")
    lessons_used = ArrayField(models.UUIDField(), default=list, blank=True)

    action = models.TextField(choices=Action.choices)
    reason = models.TextField(blank=True, default="")
    # Every attempt: the text the model wrote and each guardrail's verdict on it.
    attempts = models.JSONField(default=list, blank=True)
    regenerated = models.BooleanField(default=False)
    status = models.TextField(blank=True, default="")
    sentiment = models.TextField(blank=True, default="")

    # What Sophie wrote, kept when staff edit a draft before sending it (the learning issue reads both).
    original_text = models.TextField(blank=True, default="")
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    edited_at = models.DateTimeField(null=True, blank=True)
    written_at = models.DateTimeField()

    # The quality checks run after it was sent (sophie/insights): each rule's verdict, the LLM review's if a
    # model looked, and when; the score itself is the message's `ai_quality_score`.
    quality_checks = models.JSONField(default=list, blank=True)
    quality_checked_at = models.DateTimeField(null=True, blank=True)
    # How the lead's next text took it: "good" (not negative, no opt-out), "bad", or "" (no reply yet).
    lead_outcome = models.TextField(blank=True, default="")

    class Meta:
        db_table = "ai_replies"
        verbose_name_plural = "AI replies"
        indexes = [
            models.Index(fields=["-created_at"], name="idx_ai_replies_created"),
            # A lesson's figures read every reply that used it (sophie/lessons.py).
            GinIndex(fields=["lessons_used"], name="idx_ai_replies_lessons_used"),
        ]

    def __str__(self) -> str:
        return f"AI reply ({self.action}) for {self.message_id}"
