import re
import secrets
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

from clients.base import CreatedModel, TimestampedModel

SLUG_RE = re.compile(r"^[a-z][a-z0-9]{0,29}$")


def validate_slug(value: str) -> None:
    if not SLUG_RE.match(value or ""):
        raise ValidationError(
            "A client slug is 1–30 lowercase letters and digits, starting with a letter "
            f"(it becomes the schema name and host label); {value!r} is not."
        )


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


def new_event_secret() -> str:
    """Signs outbound events (X-DBR-Signature): prefixed so it is recognisable where it is pasted."""
    return "whsec_" + secrets.token_hex(24)


def validate_webhook_url(value: str) -> None:
    """An outbound-event endpoint: an absolute http(s) URL (no TLD required: `http://n8n:5678/...` is fine)."""
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ValidationError(f"A webhook URL starts with http:// or https:// and names a host; {value!r} does not.")


class Client(TenantMixin, TimestampedModel):
    """A client company (seed table `clients`); its schema holds all its data."""

    class Industry(models.TextChoices):
        SOLAR = "solar", "Solar"
        HOME_IMPROVEMENT = "home_improvement", "Home improvement"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"

    class Plan(models.TextChoices):
        STARTER = "starter", "Starter"
        PROFESSIONAL = "professional", "Professional"
        ENTERPRISE = "enterprise", "Enterprise"

    slug = models.CharField(max_length=30, unique=True, validators=[validate_slug])

    company_name = models.TextField(unique=True)
    company_email = models.TextField(blank=True, null=True)
    company_phone = models.TextField(blank=True, null=True)
    company_website = models.TextField(blank=True, null=True)
    industry = models.TextField(choices=Industry.choices, default=Industry.SOLAR)

    logo_url = models.TextField(blank=True, null=True)
    primary_color = models.TextField(default="#8cc63f")

    n8n_workflow_id = models.TextField(blank=True, null=True)
    n8n_webhook_url = models.TextField(blank=True, null=True, validators=[validate_webhook_url])
    # Signs outbound events (X-DBR-Signature); shown to staff once, when made.
    n8n_webhook_secret = models.TextField(default=new_event_secret)
    twilio_phone_number = models.TextField(blank=True, null=True)
    # Cal.com signs its booking webhooks with it (docs/bookings.md); shown in Settings, regenerable.
    cal_webhook_secret = models.TextField(blank=True, default=new_webhook_secret)

    status = models.TextField(choices=Status.choices, default=Status.ACTIVE)
    plan = models.TextField(choices=Plan.choices, default=Plan.STARTER)

    timezone = models.TextField(default="Europe/London")
    settings = models.JSONField(default=dict, blank=True)

    # Kept by the campaign service so beat only ticks clients with work to do.
    has_active_campaign = models.BooleanField(default=False)
    # The client-wide switch: off, Sophie plans and sends no reply for any dataset.
    sophie_enabled = models.BooleanField(default=True)
    # Beat's sweeps visit a client only while this is set (clients/queue.py, docs/scaling.md §1): cleared when a
    # check found no pending work of any kind and no request for a while, set again by the next request.
    work_pending = models.BooleanField(default=True)
    active_until = models.DateTimeField(null=True, blank=True)
    # False until provisioning finished; nothing runs for a client that is not ready.
    schema_ready = models.BooleanField(default=False)
    # The last cadence tick: when it ran, and why it failed (empty when it succeeded), for staff to see.
    cadence_ran_at = models.DateTimeField(null=True, blank=True)
    cadence_error = models.TextField(blank=True, default="")

    auto_create_schema = True
    auto_drop_schema = False

    class Meta:
        db_table = "clients"
        indexes = [
            models.Index(fields=["status"], name="idx_clients_status"),
            models.Index(fields=["created_at"], name="idx_clients_created_at"),
        ]

    def __str__(self) -> str:
        return self.company_name

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"


class Domain(DomainMixin):
    class Meta:
        db_table = "clients_domain"

    def __str__(self) -> str:
        return self.domain


class SendingNumber(models.Model):
    """A Twilio number and the one client it belongs to (public: a number is never shared)."""

    number = models.TextField(unique=True, help_text="E.164, e.g. +447700900123")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="sending_numbers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "sending_numbers"

    def __str__(self) -> str:
        return self.number


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("Users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password) if password else user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True, role=User.Role.ADMIN)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin, TimestampedModel):
    """Dashboard user (seed `users` merged with the auth user). Never deleted, only suspended."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        COMPANY_OWNER = "company_owner", "Company owner"
        MANAGER = "manager", "Manager"
        SALES_REP = "sales_rep", "Sales rep"
        READ_ONLY = "read_only", "Read only"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        INVITED = "invited", "Invited"

    email = models.EmailField(unique=True)
    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        db_index=False,  # idx_users_client_id
        help_text="Empty for platform staff.",
    )
    first_name = models.TextField(blank=True, default="")
    last_name = models.TextField(blank=True, default="")
    phone = models.TextField(blank=True, null=True)
    avatar_url = models.TextField(blank=True, null=True)

    role = models.TextField(choices=Role.choices, default=Role.SALES_REP)
    permissions = models.JSONField(default=dict, blank=True)
    can_view_all_leads = models.BooleanField(default=False)
    can_edit_lessons = models.BooleanField(default=False)
    can_push_to_n8n = models.BooleanField(default=False)
    can_manage_users = models.BooleanField(default=False)
    allowed_dataset_ids = ArrayField(
        models.UUIDField(), null=True, blank=True, help_text="Empty = no datasets; null = all."
    )

    status = models.TextField(choices=Status.choices, default=Status.ACTIVE)
    last_login_at = models.DateTimeField(null=True, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Platform staff (public admin).")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        db_table = "users"
        indexes = [
            models.Index(fields=["client"], name="idx_users_client_id"),
            models.Index(fields=["role"], name="idx_users_role"),
            models.Index(fields=["status"], name="idx_users_status"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.status != self.Status.SUSPENDED

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email


class Notification(CreatedModel):
    """Something a user should act on (a hot lead, a hand-off, a booking). Public schema: it names the lead
    by id and URL, never by a foreign key into a client's schema."""

    class Kind(models.TextChoices):
        HOT = "hot", "Hot lead"
        HANDOFF = "handoff", "Handed to a person"
        BOOKED = "booked", "Call booked"
        BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="notifications")
    kind = models.TextField(choices=Kind.choices)
    title = models.TextField()
    body = models.TextField(blank=True, default="")
    lead_id = models.UUIDField(null=True, blank=True)
    url = models.TextField(blank=True, default="")
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="idx_notifications_user"),
            models.Index(fields=["user"], name="idx_notifications_unread", condition=models.Q(read_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title


class ClientLogo(models.Model):
    """The client's logo as we re-encoded it (PNG or JPEG), apart from `Client` so the tenant row loaded on
    every request never carries the image; served publicly at `Client.logo_url` (docs/settings.md)."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, primary_key=True, related_name="logo")
    image = models.BinaryField()
    content_type = models.TextField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    version = models.PositiveIntegerField(default=1, help_text="Part of the URL, so a new logo is a new URL.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "client_logos"

    def __str__(self) -> str:
        return f"Logo of {self.client}"


class ApiToken(CreatedModel):
    """A personal API key (docs/api.md): only its SHA-256 is kept; the key itself is shown once, when made."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.TextField()
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="The key's first characters, to tell tokens apart.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_tokens"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "-created_at"], name="idx_api_tokens_user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiIdempotencyKey(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed for a repeat of it (docs/api.md)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    schema_name = models.TextField()
    method = models.CharField(max_length=10)
    path = models.TextField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in progress.")
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "api_idempotency_keys"
        constraints = [
            models.UniqueConstraint(fields=["user", "schema_name", "key"], name="uniq_api_idempotency_key"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idx_api_idempotency_created")]

    def __str__(self) -> str:
        return self.key
