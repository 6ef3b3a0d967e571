from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from clients.models import Client, Domain, validate_slug

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
    Domain.objects.get_or_create(domain=domain or settings.DBR_BASE_DOMAIN, defaults={"tenant": public, "is_primary": True})
    return public


def client_create(*, name: str, slug: str, domain: str | None = None, **fields) -> Client:
    """Creates a client with its domain, schema and seeded defaults — all of it or nothing.

    PostgreSQL DDL is transactional, so the schema, its migrations and the apps' seeds
    (django-tenants' post_schema_sync) roll back with the rows if any step fails.
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
    if name and Client.objects.filter(company_name__iexact=name).exists():
        errors["name"] = f"A client named {name!r} already exists."
    if Domain.objects.filter(domain=domain).exists():
        errors["domain"] = f"The domain {domain!r} already belongs to another client."
    if errors:
        raise ValidationError(errors)

    connection.set_schema_to_public()
    with transaction.atomic():
        client = Client(slug=slug, schema_name=slug, company_name=name, **fields)
        client.save(verbosity=0)
        Domain.objects.create(domain=domain, tenant=client, is_primary=True)
        client.schema_ready = True
        client.save(update_fields=["schema_ready", "updated_at"])
    return client
