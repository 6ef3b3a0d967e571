from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django_tenants.utils import schema_context, schema_exists

from clients.access import user_url
from clients.models import Client, Domain, SendingNumber, User, new_webhook_secret, validate_slug
from clients.numbers import sending_number_add
from clients.roles import FLAG_FIELDS, access_change_refusal, status_change_refusal
from clients.spares import spare_take

PUBLIC_SCHEMA = "public"


def client_domain_for(slug: str) -> str:
    return f"{slug}.{settings.DBR_BASE_DOMAIN}"


def public_tenant_ensure(*, domain: str | None = None) -> Client:
    """The public tenant row and its domain, which django-tenants needs to route the public host."""
    connection.set_schema_to_public()
    public, _ = Client.objects.get_or_create(
        schema_name=PUBLIC_SCHEMA,
        defaults={"slug": PUBLIC_SCHEMA, "company_name": "DBR platform", "schema_ready": True},
    )
    Domain.objects.get_or_create(
        domain=domain or settings.DBR_BASE_DOMAIN, defaults={"tenant": public, "is_primary": True}
    )
    return public


def client_create(*, name: str, slug: str, domain: str | None = None, number: str | None = None, **fields) -> Client:
    """Creates a client with its domain, schema and seeded defaults — all of it or nothing.

    PostgreSQL DDL is transactional, so the schema, its migrations and the apps' seeds
    (django-tenants' post_schema_sync) roll back with the rows if any step fails.
    The schema is a current spare renamed when the pool has one (clients/spares.py): django-tenants
    then finds the schema there and only the seeds run; otherwise it is created and migrated here.
    """
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = "A client needs a company name."
    try:
        validate_slug(slug)
    except ValidationError as exc:
        errors["slug"] = exc.messages[0]
    domain = (domain or client_domain_for(slug)).lower()
    if not errors.get("slug") and Client.objects.filter(slug=slug).exists():
        errors["slug"] = f"A client with the slug {slug!r} already exists."
    if not errors.get("slug") and slug == PUBLIC_SCHEMA:
        errors["slug"] = "'public' is reserved."
    if name and (same_name := Client.objects.filter(company_name__iexact=name).first()):
        errors["name"] = f"A client named {same_name.company_name!r} already exists."
    if Domain.objects.filter(domain=domain).exists():
        errors["domain"] = f"The domain {domain!r} already belongs to another client."
    if number and SendingNumber.objects.filter(number=number.strip()).exists():
        errors["number"] = f"{number} already belongs to another client."
    if errors:
        raise ValidationError(errors)

    connection.set_schema_to_public()
    with transaction.atomic():
        if number:
            fields["twilio_phone_number"] = number.strip()
        client = Client(slug=slug, schema_name=slug, company_name=name, **fields)
        if not schema_exists(slug):
            spare_take(schema_name=slug)
        client.save(verbosity=0)
        Domain.objects.create(domain=domain, tenant=client, is_primary=True)
        if number:
            sending_number_add(client=client, number=number)
        client.schema_ready = True
        client.save(update_fields=["schema_ready", "updated_at"])
    return client


def user_create(
    *,
    email: str,
    client: Client | None,
    role: str = User.Role.SALES_REP,
    password: str | None = None,
    staff: bool = False,
    status: str = User.Status.ACTIVE,
    **fields,
) -> User:
    """Creates a client user, or platform staff (`staff=True`, no client)."""
    email = (email or "").strip().lower()
    errors = {}
    if staff and client is not None:
        errors["client"] = "Platform staff do not belong to a client."
    if not staff and client is None:
        errors["client"] = "A user needs a client (or must be platform staff)."
    if role not in User.Role.values:
        errors["role"] = f"Unknown role {role!r}; choose one of {', '.join(User.Role.values)}."
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = f"A user with the email {email!r} already exists."
    if errors:
        raise ValidationError(errors)
    if password:
        from django.contrib.auth.password_validation import validate_password

        validate_password(password, User(email=email))
    with schema_context(PUBLIC_SCHEMA):
        return User.objects.create_user(
            email,
            password,
            client=client,
            role=User.Role.ADMIN if staff else role,
            is_staff=staff,
            is_superuser=staff,
            status=status,
            **fields,
        )


def user_invite(*, client: Client, email: str, role: str, invited_by: User | None, **fields) -> User:
    """Creates an invited user (no password) and emails them a link to set one."""
    if invited_by is not None:
        flags = {flag: fields.get(flag, False) for flag in FLAG_FIELDS}
        allowed = fields.get("allowed_dataset_ids")
        _refuse(
            access_change_refusal(editor=invited_by, target=None, role=role, flags=flags, allowed_dataset_ids=allowed)
        )
    user = user_create(email=email, client=client, role=role, status=User.Status.INVITED, **fields)
    send_invite_email(user=user, invited_by=invited_by)
    return user


def send_invite_email(*, user: User, invited_by: User | None) -> None:
    from django.contrib.auth.tokens import default_token_generator
    from django.core.mail import send_mail
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = user_url(user, f"/invite/{uid}/{default_token_generator.make_token(user)}/")
    inviter = invited_by.get_full_name() if invited_by else "Your administrator"
    send_mail(
        subject=f"You're invited to {user.client.company_name} on DBR",
        message=(
            f"{inviter} has invited you to {user.client.company_name}'s DBR dashboard.\n\n"
            f"Set your password here (the link works for 3 days):\n{link}\n\n"
            f"Your login is {user.email}."
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def _refuse(reason: str | None) -> None:
    if reason:
        raise ValidationError(reason, code="not_allowed")


def user_update_access(
    *, user: User, by: User, role: str, flags: dict[str, bool], allowed_dataset_ids: list | None
) -> User:
    if role not in User.Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    _refuse(
        access_change_refusal(editor=by, target=user, role=role, flags=flags, allowed_dataset_ids=allowed_dataset_ids)
    )
    user.role = role
    for flag in FLAG_FIELDS:
        setattr(user, flag, bool(flags.get(flag, False)))
    user.allowed_dataset_ids = allowed_dataset_ids
    user.save()
    return user


def user_suspend(*, user: User, by: User) -> User:
    _refuse(status_change_refusal(editor=by, target=user))
    user.status = User.Status.SUSPENDED
    user.save(update_fields=["status", "updated_at"])
    return user


def user_reactivate(*, user: User, by: User) -> User:
    _refuse(status_change_refusal(editor=by, target=user))
    user.status = User.Status.ACTIVE if user.has_usable_password() else User.Status.INVITED
    user.save(update_fields=["status", "updated_at"])
    return user


def user_login_record(sender, request, user: User, **kwargs) -> None:
    """Keeps the seed's `last_login_at` beside Django's `last_login`."""
    from django.utils import timezone

    User.objects.filter(pk=user.pk).update(last_login_at=timezone.now())


def client_close(*, client: Client) -> Client:
    """Closes a client: it can no longer send or be used, and its data stays until dropped."""
    client.status = Client.Status.CANCELLED
    client.has_active_campaign = False
    client.save(update_fields=["status", "has_active_campaign", "updated_at"])
    User.objects.filter(client=client).update(status=User.Status.SUSPENDED)
    return client


def client_schema_drop(*, client: Client) -> None:
    """Drops a closed client's schema and its domains; the client row stays as a record."""
    if client.status != Client.Status.CANCELLED:
        raise ValidationError("Close the client first (its status must be cancelled).")
    connection.set_schema_to_public()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{client.schema_name}" CASCADE')
        Domain.objects.filter(tenant=client).delete()
        Client.objects.filter(pk=client.pk).update(schema_ready=False)


def client_sophie_set(*, client: Client, enabled: bool) -> Client:
    """The client-wide switch for Sophie's replies (Settings)."""
    Client.objects.filter(pk=client.pk).update(sophie_enabled=enabled)
    client.sophie_enabled = enabled
    return client


def client_cal_secret_regenerate(*, client: Client) -> Client:
    """A new Cal.com webhook secret: deliveries signed with the old one are refused from now on."""
    client.cal_webhook_secret = new_webhook_secret()
    client.save(update_fields=["cal_webhook_secret", "updated_at"])
    return client


PROFILE_FIELDS = ("company_name", "company_email", "company_phone", "company_website", "industry")


def client_profile_update(*, client: Client, **values) -> Client:
    """The company's own details (Settings › Company); the name must stay unique across clients."""
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not profile fields: {sorted(unknown)}")
    name = (values.get("company_name") or client.company_name or "").strip()
    if not name:
        raise ValidationError({"company_name": "The company needs a name."})
    if Client.objects.filter(company_name__iexact=name).exclude(pk=client.pk).exists():
        raise ValidationError({"company_name": "Another client already has this name."})
    values["company_name"] = name
    for field, value in values.items():
        setattr(client, field, value.strip() if isinstance(value, str) else value)
    client.full_clean(exclude=["schema_name", "slug"], validate_unique=False)
    client.save(update_fields=[*values, "updated_at"])
    return client


def client_timezone_set(*, client: Client, zone: str) -> Client:
    """The zone new datasets' sending hours start from and dates on the dashboard are read in."""
    import zoneinfo

    if zone not in zoneinfo.available_timezones():
        raise ValidationError({"timezone": f"{zone!r} is not a time zone we know, such as Europe/London."})
    client.timezone = zone
    client.save(update_fields=["timezone", "updated_at"])
    return client
