"""The campaign settings an import judges rows by: required fields, phone rules, what to do with duplicates."""

from django.conf import settings

from leads.importing.mapping import FIELDS
from leads.importing.rows import RowValidator
from leads.models import CampaignSettings, Dataset
from leads.services import campaign_settings_copy, default_template


def import_settings(dataset: Dataset) -> CampaignSettings:
    """The dataset's own settings, else the client's default template (a dataset may not have a copy yet)."""
    return dataset.campaign_settings or default_template()


def row_validator(*, headers: list[str], mapping: dict[str, str], options: CampaignSettings) -> RowValidator:
    return RowValidator(
        headers=headers,
        mapping=mapping,
        required_fields=list(options.required_fields or []),
        auto_normalize_uk=options.auto_normalize_uk_numbers,
        allow_international=options.allow_international,
        allow_fiction=settings.DBR_ALLOW_FICTION_NUMBERS,
    )


def only_phone_required(options: CampaignSettings) -> CampaignSettings:
    """An unsaved copy of `options` that requires nothing but the phone number."""
    copy = CampaignSettings(**{f.attname: getattr(options, f.attname) for f in CampaignSettings._meta.concrete_fields})
    copy.required_fields = ["phone_number"]
    return copy


def dataset_required_fields_set(*, dataset: Dataset, required_fields: list[str]) -> CampaignSettings:
    """Makes fields optional (or required) for this dataset only; templates stay as they are."""
    unknown = set(required_fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"Unknown fields: {', '.join(sorted(unknown))}")
    options = dataset.campaign_settings
    if options is None or options.is_template:
        options = campaign_settings_copy(template=import_settings(dataset), name=f"{dataset.name} settings")
        dataset.campaign_settings = options
        dataset.save(update_fields=["campaign_settings", "updated_at"])
    options.required_fields = [f for f in FIELDS if f in required_fields or f == "phone_number"]
    options.save(update_fields=["required_fields", "updated_at"])
    return options
