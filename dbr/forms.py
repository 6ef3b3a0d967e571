from django import forms

from clients.models import User

FLAG_FIELDS = ["can_view_all_leads", "can_edit_lessons", "can_push_to_n8n", "can_manage_users"]


class UserAccessForm(forms.Form):
    """Role, flags and dataset restriction of one user (Settings › Users)."""

    role = forms.ChoiceField(choices=User.Role.choices)
    can_view_all_leads = forms.BooleanField(required=False, label="Can see all leads (not only assigned)")
    can_edit_lessons = forms.BooleanField(required=False, label="Can edit Sophie's lessons")
    can_push_to_n8n = forms.BooleanField(required=False, label="Can push leads to n8n")
    can_manage_users = forms.BooleanField(required=False, label="Can manage users")
    restrict_datasets = forms.BooleanField(required=False, label="Only some datasets")
    datasets = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, datasets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["datasets"].choices = [(str(d.pk), d.name) for d in datasets]

    @classmethod
    def initial_for(cls, user: User) -> dict:
        return {
            "role": user.role,
            **{f: getattr(user, f) for f in FLAG_FIELDS},
            "restrict_datasets": user.allowed_dataset_ids is not None,
            "datasets": [str(pk) for pk in user.allowed_dataset_ids or []],
        }

    def allowed_dataset_ids(self) -> list | None:
        if not self.cleaned_data["restrict_datasets"]:
            return None
        return list(self.cleaned_data["datasets"])

    def flags(self) -> dict[str, bool]:
        return {f: self.cleaned_data[f] for f in FLAG_FIELDS}


class InviteForm(UserAccessForm):
    email = forms.EmailField()
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    field_order = ["email", "first_name", "last_name", "role"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Someone already has an account with this email.")
        return email
