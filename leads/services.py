from django.db import connection, transaction
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
    templates = CampaignSettings.objects.filter(is_template=True)
    return templates.filter(name=DEFAULT_TEMPLATE_NAME).first() or templates.order_by("created_at").first()


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


def dataset_stats_recount(*, dataset_id) -> Dataset:
    """Recounts a dataset's stats from its leads (repair; the triggers keep them right)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE datasets d SET
              total_leads = (SELECT count(*) FROM leads WHERE dataset_id = d.id),
              active_leads = (SELECT count(*) FROM leads WHERE dataset_id = d.id AND NOT archived),
              hot_leads = (SELECT count(*) FROM leads WHERE dataset_id = d.id AND contact_status = 'HOT'),
              converted_leads = (SELECT count(*) FROM leads WHERE dataset_id = d.id AND contact_status = 'CONVERTED')
            WHERE d.id = %s
            """,
            [dataset_id],
        )
    return Dataset.objects.get(pk=dataset_id)
