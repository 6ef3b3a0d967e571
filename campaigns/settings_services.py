"""A dataset's own campaign settings and reusable templates (docs/architecture.md §3): copies, never links."""

import copy

from django.db import transaction

from campaigns.services import CampaignRefused, start_problems
from clients.models import Client
from leads.defaults import DEFAULT_TEMPLATE
from leads.models import CampaignSettings, Dataset
from leads.services import default_template

# What a template carries over; a copy keeps its own identity, name and description.
_IDENTITY = {"id", "created_at", "updated_at", "name", "description", "is_template"}
VALUE_FIELDS = tuple(f.name for f in CampaignSettings._meta.concrete_fields if f.name not in _IDENTITY)


def _values(source: CampaignSettings) -> dict:
    return {name: copy.deepcopy(getattr(source, name)) for name in VALUE_FIELDS}


def settings_for_editing(dataset: Dataset) -> CampaignSettings:
    """The dataset's own settings, or an unsaved copy of what it would start from.

    A dataset linked to a template (or to nothing) gets a copy of that template (or of the
    default) when staff first save; nothing is written just by looking.
    """
    options = dataset.campaign_settings
    if options is not None and not options.is_template:
        return options
    source = options or default_template()
    values = _values(source) if source else {k: v for k, v in DEFAULT_TEMPLATE.items() if k in VALUE_FIELDS}
    description = source.description if source else DEFAULT_TEMPLATE["description"]
    return CampaignSettings(**values, name=f"{dataset.name} settings", description=description, is_template=False)


@transaction.atomic
def campaign_settings_save(*, dataset: Dataset, options: CampaignSettings, client: Client) -> CampaignSettings:
    """Saves a dataset's own settings (linking them when new).

    While the campaign runs, values that would stop it from starting (a message without the
    sender or STOP, an unknown merge field, no sending number…) are refused: the tick would
    otherwise send them.
    """
    dataset = Dataset.objects.select_for_update().get(pk=dataset.pk)
    linked = dataset.campaign_settings_id
    if options.is_template:
        raise ValueError("Templates are never used live: edit a copy.")
    if not options._state.adding and options.pk != linked:
        raise ValueError("These settings belong to another dataset.")
    if dataset.campaign_status == Dataset.CampaignStatus.ACTIVE:
        before = set(start_problems(dataset, client))
        dataset.campaign_settings = options
        added = [problem for problem in start_problems(dataset, client) if problem not in before]
        if added:
            raise CampaignRefused(added)
    options.ai_response_enabled = options.ai_mode != CampaignSettings.AiMode.OFF  # the seed's flag, kept in step
    options.save()
    if linked != options.pk:
        Dataset.objects.filter(pk=dataset.pk).update(campaign_settings=options)
    return options


TEMPLATE_NAME_MAX = 200


class TemplateNameRefused(ValueError):
    """Why a template cannot have this name, for the person who typed it."""


def template_name_clean(name: str | None) -> str:
    """The name with its spaces tidied; '' when none was given. Names are unique, whatever their case."""
    name = " ".join((name or "").split())
    if len(name) > TEMPLATE_NAME_MAX:
        raise TemplateNameRefused(f"A template's name can be at most {TEMPLATE_NAME_MAX} characters.")
    if name and CampaignSettings.objects.filter(is_template=True, name__iexact=name).exists():
        raise TemplateNameRefused(f"A template called “{name}” exists already: choose another name.")
    return name


def campaign_settings_save_as_template(
    *, options: CampaignSettings, name: str, description: str | None = None
) -> CampaignSettings:
    """A reusable template made from these values: a copy, so later edits of either stay apart."""
    name = template_name_clean(name)
    if not name:
        raise TemplateNameRefused("Give the template a name.")
    return CampaignSettings.objects.create(**_values(options), name=name, description=description, is_template=True)


def campaign_settings_apply_template(
    *, dataset: Dataset, template: CampaignSettings, client: Client
) -> CampaignSettings:
    """Copies a template's values into the dataset's own settings (never links the template)."""
    if not template.is_template:
        raise ValueError("Only a template can be applied.")
    options = settings_for_editing(dataset)
    for name, value in _values(template).items():
        setattr(options, name, value)
    return campaign_settings_save(dataset=dataset, options=options, client=client)
