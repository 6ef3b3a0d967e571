from django.db import transaction
from django_tenants.utils import schema_context

from clients.models import User
from leads.defaults import DEFAULT_TEMPLATE, DEFAULT_TEMPLATE_NAME
from leads.models import CampaignSettings, Dataset


def seed_client_defaults(sender, tenant, **kwargs) -> None:
    """post_schema_sync: give a new client its "Default" campaign settings template."""
    if tenant.schema_name == "public":
        return
    with schema_context(tenant.schema_name):
        if not CampaignSettings.objects.filter(is_template=True, name=DEFAULT_TEMPLATE_NAME).exists():
            CampaignSettings.objects.create(**DEFAULT_TEMPLATE)


def default_template() -> CampaignSettings:
    return CampaignSettings.objects.filter(is_template=True).order_by("name != 'Default'", "created_at").first()


def campaign_settings_copy(*, template: CampaignSettings, name: str | None = None) -> CampaignSettings:
    """A live copy of a template for one dataset; templates themselves are never used live."""
    copy = CampaignSettings.objects.get(pk=template.pk)
    copy.pk = None
    copy._state.adding = True
    copy.is_template = False
    copy.name = name or template.name
    copy.save()
    return copy


@transaction.atomic
def dataset_create(
    *, name: str, template: CampaignSettings | None = None, uploaded_by: User | None = None,
    description: str | None = None, source: str | None = None,
) -> Dataset:
    template = template or default_template()
    settings = campaign_settings_copy(template=template, name=f"{name} settings") if template else None
    return Dataset.objects.create(
        name=name, description=description, source=source, uploaded_by=uploaded_by, campaign_settings=settings
    )
