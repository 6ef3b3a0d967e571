"""The API of Settings › Users and Settings › Company (docs/api.md), beside the Settings pages
(`campaigns/views/settings.py`): the same forms and the same `clients` services. It lives here, not in
`clients.api`, because choosing a user's datasets reads the datasets the editor may see (`leads`), which the
`clients` layer may not import."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from clients.api_base import ErrorSerializer, Key, UuidLookup, choice_param, error_response, json_object
from clients.branding import client_brand_colour_set
from clients.forms import BrandColourForm, ClientProfileForm, InviteForm, TimeZoneForm, UserAccessForm
from clients.models import Client, User
from clients.numbers import numbers_of
from clients.roles import FLAG_FIELDS, Action, can
from clients.services import (
    PROFILE_FIELDS,
    client_profile_update,
    client_timezone_set,
    user_invite,
    user_reactivate,
    user_suspend,
    user_update_access,
)
from leads.selectors import datasets_visible_to

# --- Users (Settings › Users) --------------------------------------------------------------------------


def _refused(exc: DjangoValidationError, what: str) -> Response:
    """A service's refusal (clients.roles: your own access, someone ranked above you…): 409 with its reasons."""
    reasons = exc.messages
    return error_response(
        status.HTTP_409_CONFLICT, "access_refused", f"{what}: " + " ".join(reasons), {"non_field_errors": reasons}
    )


def _form_errors(form, rename: dict[str, str] | None = None) -> ValidationError:
    """A page's form errors as the API's 400, under the API's field names."""
    rename = rename or {}
    return ValidationError(
        {
            rename.get(name, name if name != "__all__" else "non_field_errors"): list(errors)
            for name, errors in form.errors.items()
        }
    )


class UserSerializer(serializers.ModelSerializer):
    allowed_dataset_ids = serializers.ListField(
        child=serializers.UUIDField(), allow_null=True, read_only=True, help_text="null: every dataset."
    )

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "role",
            "status",
            *FLAG_FIELDS,
            "allowed_dataset_ids",
            "last_login_at",
            "created_at",
        ]
        read_only_fields = fields


class UserAccessSerializer(serializers.Serializer):
    """What Settings › Users › Edit access changes; a PATCH sends only what changes."""

    role = serializers.ChoiceField(choices=User.Role.choices)
    can_view_all_leads = serializers.BooleanField(help_text="Sees every lead, not only those assigned to them.")
    can_edit_lessons = serializers.BooleanField()
    can_push_to_n8n = serializers.BooleanField()
    can_manage_users = serializers.BooleanField()
    allowed_dataset_ids = serializers.ListField(
        child=serializers.UUIDField(),
        allow_null=True,
        help_text="Only these datasets (ids of datasets you can see); null: every dataset.",
    )


class UserInviteSerializer(UserAccessSerializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in FLAG_FIELDS:
            self.fields[name].required = False
            self.fields[name].default = False
        self.fields["allowed_dataset_ids"].required = False
        self.fields["allowed_dataset_ids"].default = None


USER_EXAMPLE = {
    "id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
    "email": "jo@acme.example",
    "first_name": "Jo",
    "last_name": "Reed",
    "role": "sales_rep",
    "status": "active",
    "can_view_all_leads": False,
    "can_edit_lessons": False,
    "can_push_to_n8n": False,
    "can_manage_users": False,
    "allowed_dataset_ids": ["7c1f3b8e-2a4d-4e6f-8b9a-0c1d2e3f4a5b"],
    "last_login_at": "2026-11-30T08:55:00Z",
    "created_at": "2026-10-01T09:00:00Z",
}
ACCESS_REFUSED_EXAMPLE = OpenApiExample(
    "Refused",
    value={
        "error": {
            "code": "access_refused",
            "message": "Not saved: You cannot change the access of someone whose role is above yours.",
            "fields": {"non_field_errors": ["You cannot change the access of someone whose role is above yours."]},
        }
    },
    response_only=True,
    status_codes=["409"],
)


def _known_fields(request, serializer_class) -> None:
    """A field the request cannot set (a typo, `email` in a PATCH, `status`) is refused, not silently ignored."""
    if isinstance(request.data, dict):
        known = serializer_class().fields
        if unknown := sorted(set(request.data) - set(known)):
            raise ValidationError({name: ["Not a field you can set here."] for name in unknown})


def _access_form(form_class, request, values: dict, *, current=None, **extra):
    """The page's form (role choices, the datasets the editor may pick, a free email) over the API's values.

    Returns the valid form and the dataset restriction to save. Datasets left out of a PATCH stay as they
    are, even those the editor cannot see, so they are not checked against the editor's choices.
    """
    datasets_given = "allowed_dataset_ids" in values
    ids = values.get("allowed_dataset_ids") if datasets_given else None
    data = {
        **{name: value for name, value in values.items() if name != "allowed_dataset_ids"},
        "restrict_datasets": ids is not None,
        "datasets": list(dict.fromkeys(str(pk) for pk in ids or [])),
    }
    choices = datasets_visible_to(request.user).order_by("name")
    form = form_class(data, datasets=choices, **extra)
    if not form.is_valid():
        raise _form_errors(form, {"datasets": "allowed_dataset_ids", "restrict_datasets": "allowed_dataset_ids"})
    allowed = form.allowed_dataset_ids() if datasets_given else (current.allowed_dataset_ids if current else None)
    return form, allowed


@extend_schema_view(
    list=extend_schema(
        summary="The client's users, with role, datasets, status and last sign-in (Settings › Users)",
        parameters=[OpenApiParameter("status", str, enum=User.Status.values, description="Only users in this status.")],
        examples=[OpenApiExample("A sales rep", value=USER_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One user of the client",
        examples=[OpenApiExample("A sales rep", value=USER_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Invite someone: they are e-mailed a link to set their password",
        request=UserInviteSerializer,
        responses={201: UserSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample(
                "A rep for one dataset",
                value={
                    "email": "jo@acme.example",
                    "first_name": "Jo",
                    "role": "sales_rep",
                    "allowed_dataset_ids": ["7c1f3b8e-2a4d-4e6f-8b9a-0c1d2e3f4a5b"],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Invited",
                value={**USER_EXAMPLE, "status": "invited", "last_login_at": None},
                response_only=True,
                status_codes=["201"],
            ),
            ACCESS_REFUSED_EXAMPLE,
        ],
    ),
    partial_update=extend_schema(
        summary="Change a user's role, rights or datasets (send only what changes)",
        request=UserAccessSerializer,
        responses={200: UserSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample("Make a manager", value={"role": "manager", "allowed_dataset_ids": None}, request_only=True),
            OpenApiExample("Saved", value={**USER_EXAMPLE, "role": "manager", "allowed_dataset_ids": None}),
            ACCESS_REFUSED_EXAMPLE,
        ],
    ),
)
class UserViewSet(UuidLookup, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Settings › Users over the API: for who may manage users (`manage_users`), through the same services;
    the services refuse what the page refuses (your own access, someone ranked above you…) with a 409."""

    queryset = User.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = UserSerializer
    keyset_ordering = [Key("status"), Key("email")]  # the page's order
    http_method_names = ["get", "post", "patch", "head", "options"]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not can(request.user, Action.MANAGE_USERS):
            raise PermissionDenied("Your role does not allow managing users.")

    def get_queryset(self):
        users = User.objects.filter(client=self.request.tenant)
        if self.action == "list" and (wanted := choice_param(self.request, "status", User.Status.values)):
            users = users.filter(status=wanted)
        return users

    def create(self, request, *args, **kwargs):
        _known_fields(request, UserInviteSerializer)
        body = UserInviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        form, allowed = _access_form(InviteForm, request, values)
        data = form.cleaned_data
        try:
            user = user_invite(
                client=request.tenant,
                email=data["email"],
                role=data["role"],
                invited_by=request.user,
                first_name=data["first_name"],
                last_name=data["last_name"],
                allowed_dataset_ids=allowed,
                **form.flags(),
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise ValidationError(exc.message_dict) from None
            return _refused(exc, "Not invited")
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        member = self.get_object()
        _known_fields(request, UserAccessSerializer)
        body = UserAccessSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        values = {**UserAccessForm.initial_for(member), **body.validated_data}
        del values["restrict_datasets"], values["datasets"]
        if "allowed_dataset_ids" not in body.validated_data:
            values.pop("allowed_dataset_ids", None)
        form, allowed = _access_form(UserAccessForm, request, values, current=member)
        try:
            user_update_access(
                user=member,
                by=request.user,
                role=form.cleaned_data["role"],
                flags=form.flags(),
                allowed_dataset_ids=allowed,
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict"):
                raise ValidationError(exc.message_dict) from None
            return _refused(exc, "Not saved")
        member.refresh_from_db()
        return Response(UserSerializer(member).data)

    def _status_change(self, request, service, what: str) -> Response:
        member = self.get_object()
        try:
            service(user=member, by=request.user)
        except DjangoValidationError as exc:
            return _refused(exc, what)
        member.refresh_from_db()
        return Response(UserSerializer(member).data)

    @extend_schema(
        summary="Suspend a user: they cannot sign in, and their API tokens stop working",
        request=None,
        responses={200: UserSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample("Suspended", value={**USER_EXAMPLE, "status": "suspended"}, status_codes=["200"]),
            ACCESS_REFUSED_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._status_change(request, user_suspend, "Not suspended")

    @extend_schema(
        summary="Reactivate a suspended user (invited again if they never set a password)",
        request=None,
        responses={200: UserSerializer, 409: ErrorSerializer},
        examples=[OpenApiExample("Active", value=USER_EXAMPLE, status_codes=["200"]), ACCESS_REFUSED_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return self._status_change(request, user_reactivate, "Not reactivated")


# --- Client settings (Settings › Company) -----------------------------------------------------------------


class ClientSettingsSerializer(serializers.Serializer):
    """The client's profile, brand colour and time zone; the sending numbers are shown, changed in Settings."""

    company_name = serializers.CharField(max_length=200)
    company_email = serializers.EmailField(allow_blank=True, allow_null=True)
    company_phone = serializers.CharField(max_length=40, allow_blank=True, allow_null=True)
    company_website = serializers.CharField(allow_blank=True, allow_null=True, help_text="A URL; https:// is assumed.")
    industry = serializers.ChoiceField(choices=Client.Industry.choices)
    timezone = serializers.CharField(help_text="An IANA time zone, such as Europe/London.")
    primary_color = serializers.CharField(
        max_length=7, help_text="#rrggbb; refused if button labels on it would not be readable (WCAG AA, 4.5:1)."
    )
    logo_url = serializers.CharField(read_only=True, allow_null=True)
    sending_numbers = serializers.ListField(child=serializers.CharField(), read_only=True)
    default_sending_number = serializers.CharField(
        source="twilio_phone_number",
        read_only=True,
        allow_null=True,
        help_text="Texts go from it unless a dataset names another.",
    )


def client_settings_data(client: Client) -> dict:
    data = {name: getattr(client, name) for name in (*PROFILE_FIELDS, "timezone", "primary_color", "logo_url")}
    data["sending_numbers"] = sorted(numbers_of(client))
    data["default_sending_number"] = client.twilio_phone_number
    return data


CLIENT_SETTINGS_EXAMPLE = {
    "company_name": "Acme Solar",
    "company_email": "hello@acme.example",
    "company_phone": "+441179000000",
    "company_website": "https://acme.example",
    "industry": "solar",
    "timezone": "Europe/London",
    "primary_color": "#1d5fbf",
    "logo_url": "/brand/logo/3.png",
    "sending_numbers": ["+447700900123"],
    "default_sending_number": "+447700900123",
}


class ClientViewSet(viewsets.GenericViewSet):
    """The client itself: its settings (Settings › Company) at /api/client/settings/."""

    serializer_class = ClientSettingsSerializer
    pagination_class = None

    @extend_schema(
        methods=["GET"],
        summary="The client's profile, brand colour, time zone and sending numbers",
        responses=ClientSettingsSerializer,
        examples=[OpenApiExample("Acme", value=CLIENT_SETTINGS_EXAMPLE)],
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change the profile, brand colour or time zone (owners and admins), checked as the page checks them",
        request=ClientSettingsSerializer,
        responses=ClientSettingsSerializer,
        examples=[
            OpenApiExample(
                "New colour and zone",
                value={"primary_color": "#1d5fbf", "timezone": "Europe/Dublin"},
                request_only=True,
            ),
            OpenApiExample(
                "Saved",
                value={**CLIENT_SETTINGS_EXAMPLE, "timezone": "Europe/Dublin"},
                response_only=True,
            ),
        ],
    )
    @action(detail=False, methods=["get", "patch"], url_path="settings")
    def client_settings(self, request):  # not `settings`: APIView.settings is DRF's own
        client = request.tenant
        if request.method == "GET":
            return Response(client_settings_data(client))
        if not can(request.user, Action.EDIT_CLIENT_SETTINGS):
            raise PermissionDenied("Your role does not allow changing the client's settings.")
        json_object(request, "Send a JSON object of the settings to change.")
        readable = ClientSettingsSerializer().fields
        problems = {
            name: ["Read-only: change it on its own Settings page." if name in readable else "Not a client setting."]
            for name in request.data
            if name not in readable or readable[name].read_only
        }
        if problems:
            raise ValidationError(problems)
        body = ClientSettingsSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        self._change(client, body.validated_data)
        client.refresh_from_db()
        return Response(client_settings_data(client))

    @staticmethod
    def _change(client: Client, values: dict) -> None:
        """Each part through its page's form and service, all of it or nothing."""
        saves = []
        if profile := {name: value for name, value in values.items() if name in PROFILE_FIELDS}:
            current = {name: getattr(client, name) or "" for name in PROFILE_FIELDS}
            form = ClientProfileForm({**current, **{k: v or "" for k, v in profile.items()}})
            if not form.is_valid():
                raise _form_errors(form)
            saves.append(("company_name", lambda: client_profile_update(client=client, **form.cleaned_data)))
        if "primary_color" in values:
            colour = BrandColourForm({"primary_color": values["primary_color"]})
            if not colour.is_valid():
                raise _form_errors(colour)
            data = colour.cleaned_data
            saves.append(
                ("primary_color", lambda: client_brand_colour_set(client=client, colour=data["primary_color"]))
            )
        if "timezone" in values:
            zone = TimeZoneForm({"timezone": values["timezone"]})
            if not zone.is_valid():
                raise _form_errors(zone)
            saves.append(("timezone", lambda: client_timezone_set(client=client, zone=zone.cleaned_data["timezone"])))
        try:
            with transaction.atomic():
                for field, save in saves:
                    try:
                        save()
                    except DjangoValidationError as exc:
                        # A refusal without a field (the colour's contrast) belongs to the field being saved.
                        raise ValidationError(
                            exc.message_dict if hasattr(exc, "error_dict") else {field: exc.messages}
                        ) from None
        except ValidationError:
            client.refresh_from_db()
            raise
