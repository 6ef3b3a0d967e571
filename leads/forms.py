from django import forms
from django.conf import settings

from leads.importing.mapping import FIELD_LABELS, FIELDS
from leads.models import Dataset

KEEP = ""  # an unmapped column is kept with the lead as a custom field


class UploadForm(forms.Form):
    dataset = forms.ModelChoiceField(queryset=Dataset.objects.none(), required=False, empty_label="A new dataset…")
    new_dataset_name = forms.CharField(required=False, max_length=200, label="New dataset name")
    file = forms.FileField(help_text="CSV (any delimiter, UTF-8 or Windows/Excel encoding) or Excel .xlsx")

    def __init__(self, *args, datasets=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = datasets if datasets is not None else Dataset.objects.none()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.DBR_MAX_UPLOAD_MB * 1024 * 1024
        if upload.size > limit:
            raise forms.ValidationError(
                f"This file is {upload.size / 1024 / 1024:.0f} MB; the limit is {settings.DBR_MAX_UPLOAD_MB} MB. "
                "Split it into smaller files and upload them into the same dataset."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload

    def clean(self):
        data = super().clean()
        name = (data.get("new_dataset_name") or "").strip()
        if not data.get("dataset"):
            if not name:
                self.add_error("new_dataset_name", "Choose a dataset or name a new one.")
            elif Dataset.objects.filter(name__iexact=name).exists():
                self.add_error("new_dataset_name", f"A dataset called {name!r} exists already: choose it above.")
        data["new_dataset_name"] = name
        return data


class MappingForm(forms.Form):
    """One select per column of the file: which lead field it fills (or keep it as a custom field)."""

    def __init__(self, *args, headers: list[str], initial_mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [(KEEP, "Keep as extra column")] + [(f, FIELD_LABELS[f]) for f in FIELDS]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                choices=choices, required=False, label=header, initial=initial_mapping.get(header, KEEP)
            )

    def clean(self):
        data = super().clean()
        seen: dict[str, str] = {}
        for index, header in enumerate(self.headers):
            target = data.get(f"col_{index}")
            if target and target in seen:
                self.add_error(f"col_{index}", f"{FIELD_LABELS[target]} is already filled from {seen[target]!r}.")
            elif target:
                seen[target] = header
        if "phone_number" not in seen:
            raise forms.ValidationError("Choose the column that holds the phone number.")
        return data

    def mapping(self) -> dict[str, str]:
        return {h: self.cleaned_data[f"col_{i}"] for i, h in enumerate(self.headers) if self.cleaned_data[f"col_{i}"]}


class RequiredFieldsForm(forms.Form):
    required = forms.MultipleChoiceField(
        choices=[(f, FIELD_LABELS[f]) for f in FIELDS if f != "phone_number"],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Required for this dataset",
    )


class OptOutUploadForm(forms.Form):
    file = forms.FileField(help_text="A CSV or XLSX with a phone column (or a single column of numbers).")


class SuppressionForm(forms.Form):
    phone_number = forms.CharField(max_length=40)
    reason = forms.CharField(max_length=300, required=False)
