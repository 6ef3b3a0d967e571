from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.urls import reverse
from django.utils.html import format_html

from clients.access import belongs_here, client_url, user_url
from clients.models import Client, User
from clients.roles import FLAG_FIELDS


class LoginForm(AuthenticationForm):
    """Email login on the client's own host; says clearly why a login is refused."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password don't match an account. Passwords are case-sensitive.",
        "suspended": "This account is suspended. Ask your company's DBR administrator to reactivate it.",
        "invited": "You have not set a password yet: use the link in your invitation email, or reset your password.",
    }

    def clean(self):
        email = (self.cleaned_data.get("username") or "").lower()
        self.cleaned_data["username"] = email
        try:
            return super().clean()
        except forms.ValidationError:
            user = User.objects.filter(email__iexact=email).first()
            password = self.cleaned_data.get("password") or ""
            if user and user.status == User.Status.SUSPENDED and user.check_password(password):
                raise forms.ValidationError(self.error_messages["suspended"], code="suspended") from None
            if user and user.status == User.Status.INVITED and not user.has_usable_password():
                raise forms.ValidationError(self.error_messages["invited"], code="invited") from None
            raise

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        tenant = self.request.tenant
        if belongs_here(user, tenant):
            return
        if user.client_id is None:
            raise forms.ValidationError("Platform staff sign in on the platform's address.", code="wrong_host")
        raise forms.ValidationError(
            format_html(
                'This account belongs to {}. Sign in at <a href="{}">{}</a>.',
                user.client.company_name,
                client_url(user.client, "/login/"),
                client_url(user.client),
            ),
            code="wrong_host",
        )


class ClientPasswordResetForm(PasswordResetForm):
    """Only users of this host's client (or staff on the public host) get a reset email."""

    def __init__(self, *args, tenant=None, **kwargs):
        self.tenant = tenant
        super().__init__(*args, **kwargs)

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        # The link names the user's own host, whatever Host header the request carried.
        path = reverse("password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        context["link"] = user_url(context["user"], path)
        super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)

    def get_users(self, email):
        users = User.objects.filter(email__iexact=email, status__in=[User.Status.ACTIVE, User.Status.INVITED])
        if self.tenant is None or self.tenant.is_public:
            users = users.filter(client__isnull=True, is_staff=True)
        else:
            users = users.filter(client=self.tenant)
        return iter(users)


class AcceptInviteForm(SetPasswordForm):
    """Sets the first password of an invited user and makes them active."""

    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    field_order = ["first_name", "last_name", "new_password1", "new_password2"]

    def save(self, commit: bool = True) -> User:
        self.user.first_name = self.cleaned_data["first_name"] or self.user.first_name
        self.user.last_name = self.cleaned_data["last_name"] or self.user.last_name
        self.user.status = User.Status.ACTIVE
        return super().save(commit)


def password_help() -> str:
    return password_validation.password_validators_help_text_html()


class UserAccessForm(forms.Form):
    """Role, flags and dataset restriction of one user (Settings › Users)."""

    role = forms.ChoiceField(choices=User.Role.choices)
    can_view_all_leads = forms.BooleanField(required=False, label="Can see all leads (not only assigned)")
    can_edit_lessons = forms.BooleanField(required=False, label="Can edit Sophie's lessons")
    can_push_to_n8n = forms.BooleanField(
        required=False,
        label="Can push leads to n8n",
        help_text="n8n is the automation tool your company can connect to DBR: this lets them send a lead to it.",
    )
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].initial = User.Role.READ_ONLY  # the least privilege; raise it on purpose

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Someone already has an account with this email.")
        return email


class ClientProfileForm(forms.Form):
    """Settings › Company: who the client is, as leads and staff see it."""

    company_name = forms.CharField(max_length=200, label="Company name")
    company_email = forms.EmailField(required=False, label="Company email")
    company_phone = forms.CharField(max_length=40, required=False, label="Company phone")
    company_website = forms.URLField(required=False, label="Website", assume_scheme="https")
    industry = forms.ChoiceField(choices=Client.Industry.choices)


class BrandColourForm(forms.Form):
    primary_color = forms.CharField(
        max_length=7,
        label="Colour",
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text="Used for the top bar and the main buttons; it must leave their text readable.",
    )


class LogoForm(forms.Form):
    logo = forms.FileField(
        label="Logo file",
        help_text="A PNG or JPEG of at most 1 MB. SVG is refused. We re-encode it and show it at most 600×200.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
    )


def time_zone_choices() -> list[tuple[str, str]]:
    import zoneinfo

    return [(zone, zone) for zone in sorted(zoneinfo.available_timezones()) if "/" in zone and "Etc" not in zone]


class TimeZoneForm(forms.Form):
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=time_zone_choices,
        help_text="Dates on the dashboard and new datasets' sending hours use it.",
    )


class SendingNumberForm(forms.Form):
    number = forms.CharField(max_length=20, label="Twilio number", help_text="E.164, e.g. +447700900123.")
