"""The API of the `campaigns` app (docs/api.md): conversations and messages (a staff text is sent through
the staff-reply service), campaigns (settings with the settings form's validation; start, pause, resume,
complete with every refusal reason) and the inbox."""

from django.db import transaction
from django.db.models import TimeField
from django.forms.models import model_to_dict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied, ValidationError
from rest_framework.response import Response

from campaigns import settings_api
from campaigns.forms import CampaignSettingsForm, InboundLeadForm, TemplateChoiceForm
from campaigns.inbound import ATTACHABLE, NotAttachable, inbound_attach, inbound_lead_create
from campaigns.inbox import conversation_mark_read
from campaigns.models import Conversation, InboundSms, Message
from campaigns.replies import ReplyRefused, staff_reply_send
from campaigns.selectors import (
    CONVERSATION_KINDS,
    PLANNED,
    TEXT_KINDS,
    conversations_visible_to,
    inbox_conversations,
    messages_visible_to,
    unrouted_texts_visible_to,
)
from campaigns.services import ACTIONS, CampaignRefused, start_problems
from campaigns.settings_services import (
    TEMPLATE_NAME_MAX,
    TemplateNameRefused,
    campaign_settings_apply_template,
    campaign_settings_save,
    campaign_settings_save_as_template,
    settings_for_editing,
)
from clients.api_base import (
    IDEMPOTENCY_PARAMETER,
    ErrorSerializer,
    IdField,
    Key,
    TextField,
    UuidLookup,
    bool_param,
    choice_param,
    error_response,
    idempotent,
    json_object,
)
from clients.params import uuid_param
from clients.roles import Action, can
from leads.assignment import territory_rules_text
from leads.models import CampaignSettings, Dataset
from leads.selectors import dataset_custom_columns, dataset_for, datasets_visible_to, lead_for

LEAD_ID = "0e7d8c52-47a1-4c1a-a8a4-5e8b0f7f6d21"
DATASET_ID = "7c1f3b8e-2a4d-4e6f-8b9a-0c1d2e3f4a5b"


def _refused(problems: list[str], what: str) -> Response:
    return error_response(
        status.HTTP_409_CONFLICT,
        "campaign_refused",
        f"{what}: " + " ".join(problems),
        {"non_field_errors": problems},
    )


# --- Conversations and messages ----------------------------------------------------------------------


class ConversationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Conversation
        fields = [
            "id",
            "lead",
            "dataset",
            "started_at",
            "last_message_at",
            "message_count",
            "status",
            "sentiment",
            "needs_review",
            "handoff_at",
            "handoff_reason",
            "created_at",
        ]
        read_only_fields = fields


CONVERSATION_EXAMPLE = {
    "id": "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
    "lead": LEAD_ID,
    "dataset": DATASET_ID,
    "started_at": "2026-11-02T10:01:00Z",
    "last_message_at": "2026-11-02T10:30:00Z",
    "message_count": 2,
    "status": "active",
    "sentiment": "POSITIVE",
    "needs_review": False,
    "handoff_at": None,
    "handoff_reason": "",
    "created_at": "2026-11-02T10:01:00Z",
}
LEAD_PARAMETER = OpenApiParameter("lead", OpenApiTypes.UUID, description="Only this lead's.")


@extend_schema_view(
    list=extend_schema(
        summary="Conversations of the leads you can see, latest first",
        parameters=[LEAD_PARAMETER, OpenApiParameter("dataset", OpenApiTypes.UUID)],
        examples=[OpenApiExample("A conversation", value=CONVERSATION_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One conversation",
        examples=[OpenApiExample("A conversation", value=CONVERSATION_EXAMPLE, response_only=True)],
    ),
)
class ConversationViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
    queryset = Conversation.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = ConversationSerializer
    keyset_ordering = [Key("last_message_at", descending=True)]

    def get_queryset(self):
        conversations = conversations_visible_to(self.request.user)
        if self.action == "list":
            if lead := self.request.query_params.get("lead"):
                conversations = conversations.filter(lead_id=uuid_param(lead, name="lead"))
            if dataset := self.request.query_params.get("dataset"):
                conversations = conversations.filter(dataset_id=uuid_param(dataset, name="dataset"))
        return conversations

    @extend_schema(
        summary="Mark the conversation's texts read (as opening it in the inbox does)",
        request=None,
        responses=inline_serializer("ConversationRead", {"marked_read": serializers.IntegerField()}),
        examples=[OpenApiExample("Two were unread", value={"marked_read": 2})],
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        conversation = self.get_object()
        return Response({"marked_read": conversation_mark_read(lead=conversation.lead, at=timezone.now())})


class MessageSerializer(serializers.ModelSerializer):
    sent_by = serializers.EmailField(source="sent_by.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "lead",
            "content",
            "direction",
            "message_type",
            "from_number",
            "to_number",
            "status",
            "error_code",
            "error_message",
            "sent_by",
            "queued_at",
            "sent_at",
            "delivered_at",
            "read_at",
            "created_at",
        ]
        read_only_fields = fields


class StaffMessageSerializer(serializers.Serializer):
    lead = IdField(help_text="The lead to text (one you can see).")
    text = TextField(max_length=1600, trim_whitespace=True)
    manual_mode = serializers.BooleanField(
        default=True, help_text="Take the lead over from Sophie and the cadence (the reply box's default)."
    )


class SentSerializer(serializers.Serializer):
    message = MessageSerializer()
    held_until = serializers.DateTimeField(allow_null=True, help_text="Quiet hours: the text waits until then.")
    summary = serializers.CharField()


MESSAGE_EXAMPLE = {
    "id": "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
    "conversation": "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e",
    "lead": LEAD_ID,
    "content": "Hi Sam, Jo here from Acme Solar. Does 5:30 today suit for a call?",
    "direction": "outbound",
    "message_type": "reply",
    "from_number": "+447700900001",
    "to_number": "+447700900123",
    "status": "pending",
    "error_code": None,
    "error_message": None,
    "sent_by": "jo@acme.example",
    "queued_at": "2026-11-30T10:00:00Z",
    "sent_at": None,
    "delivered_at": None,
    "read_at": None,
    "created_at": "2026-11-30T10:00:00Z",
}


TEXT_STATUSES = [value for value in Message.Status.values if value not in PLANNED]


@extend_schema_view(
    list=extend_schema(
        summary="Texts of the leads you can see (Sophie's planned replies are at /api/planned-replies/)",
        parameters=[
            LEAD_PARAMETER,
            OpenApiParameter("conversation", OpenApiTypes.UUID),
            OpenApiParameter("direction", str, enum=Message.Direction.values),
            OpenApiParameter(
                "status",
                str,
                enum=TEXT_STATUSES,
                description="Only texts in this state. Sophie's drafts and scheduled replies: /api/planned-replies/.",
            ),
        ],
        examples=[OpenApiExample("A staff reply", value=MESSAGE_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One text", examples=[OpenApiExample("A staff reply", value=MESSAGE_EXAMPLE, response_only=True)]
    ),
    create=extend_schema(
        summary="Send a text to a lead as yourself (the reply box: same checks, quiet hours, outbox)",
        request=StaffMessageSerializer,
        responses={201: SentSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Reply",
                value={"lead": LEAD_ID, "text": "Hi Sam, does 5:30 today suit for a call?", "manual_mode": True},
                request_only=True,
            ),
            OpenApiExample(
                "Queued",
                value={"message": MESSAGE_EXAMPLE, "held_until": None, "summary": "Sent to the outbox."},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    ),
)
class MessageViewSet(UuidLookup, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Message.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = MessageSerializer
    keyset_ordering = [Key("created_at", descending=True)]

    def get_queryset(self):
        texts = messages_visible_to(self.request.user).exclude(status__in=PLANNED).select_related("sent_by")
        if self.action == "list":
            params = self.request.query_params
            if lead := params.get("lead"):
                texts = texts.filter(lead_id=uuid_param(lead, name="lead"))
            if conversation := params.get("conversation"):
                texts = texts.filter(conversation_id=uuid_param(conversation, name="conversation"))
            if direction := choice_param(self.request, "direction", Message.Direction.values):
                texts = texts.filter(direction=direction)
            if status_ := choice_param(self.request, "status", TEXT_STATUSES):
                texts = texts.filter(status=status_)
        return texts

    def create(self, request, *args, **kwargs):
        if not can(request.user, Action.REPLY):
            raise PermissionDenied("Your role does not allow texting leads.")
        return idempotent(request, lambda: self._send(request))

    def _send(self, request) -> Response:
        body = StaffMessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lead = lead_for(request.user, body.validated_data["lead"])
        try:
            sent = staff_reply_send(
                lead=lead,
                text=body.validated_data["text"],
                user=request.user,
                at=timezone.now(),
                manual_mode=body.validated_data["manual_mode"],
            )
        except ReplyRefused as refused:
            raise ValidationError({"text": [str(refused)]}) from None
        message = Message.objects.select_related("sent_by").get(pk=sent.message.pk)
        data = {"message": message, "held_until": sent.held_until, "summary": sent.summary}
        return Response(SentSerializer(data).data, status=status.HTTP_201_CREATED)


# --- Campaigns ---------------------------------------------------------------------------------------

SETTINGS_FIELDS = [name for name in CampaignSettingsForm._meta.fields if name != "territory_rules"]


@extend_schema_field({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "example": "09:00"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time such as "09:00:00": OpenAPI's `format: time` would demand a UTC offset it never has."""


class CampaignSettingsSerializer(serializers.ModelSerializer):
    """The settings form's fields. A PATCH sends only what changes; the form's checks decide."""

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, TimeField: ClockTimeField}

    territory_rules = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='One rule per line, "PREFIX rep@email" (as in the settings form).',
    )
    save_as_template = serializers.CharField(
        required=False, write_only=True, allow_blank=True, help_text="Also save a reusable template of this name."
    )

    class Meta:
        model = CampaignSettings
        fields = [*SETTINGS_FIELDS, "territory_rules", "save_as_template"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["territory_rules"] = territory_rules_text(instance.territory_rules)
        return data


class CampaignTemplateSerializer(CampaignSettingsSerializer):
    class Meta(CampaignSettingsSerializer.Meta):
        fields = ["id", *SETTINGS_FIELDS, "territory_rules", "created_at"]
        read_only_fields = fields


class TemplateSaveSerializer(serializers.Serializer):
    name = TextField(max_length=TEMPLATE_NAME_MAX, help_text="Unique among the templates, any case.")
    description = TextField(required=False, allow_blank=True, max_length=1000)


class TemplateApplySerializer(serializers.Serializer):
    template = IdField(help_text="A template's id (GET /api/campaign-templates/).")


TEMPLATE_EXAMPLE = {
    "id": "5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e",
    "name": "Solar, Q1",
    "description": "Friendly, 3 steps",
    "m1_message": "Hi {first_name}, it's {agent_name} from {company}… Reply STOP to opt out",
    "agent_name": "Jo",
    "ai_mode": "suggest",
    "territory_rules": "",
    "created_at": "2026-11-30T10:00:00Z",
}


class CampaignSerializer(serializers.ModelSerializer):
    start_problems = serializers.SerializerMethodField(
        help_text="Every reason the campaign could not start now (empty: it may)."
    )

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "campaign_status",
            "campaign_paused_reason",
            "campaign_start_date",
            "campaign_end_date",
            "total_leads",
            "active_leads",
            "hot_leads",
            "converted_leads",
            "start_problems",
        ]
        read_only_fields = fields

    def get_start_problems(self, dataset: Dataset) -> list[str]:
        return start_problems(dataset, self.context["request"].tenant)


class PauseSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


CAMPAIGN_EXAMPLE = {
    "id": DATASET_ID,
    "name": "Solar enquiries 2023",
    "campaign_status": "paused",
    "campaign_paused_reason": "Paused by Jo Bloggs: checking the wording",
    "campaign_start_date": "2026-11-02T09:00:00Z",
    "campaign_end_date": None,
    "total_leads": 4210,
    "active_leads": 3977,
    "hot_leads": 41,
    "converted_leads": 6,
    "start_problems": [],
}
REFUSED_EXAMPLE = OpenApiExample(
    "Refused",
    value={
        "error": {
            "code": "campaign_refused",
            "message": "The campaign cannot start: Set the sending hours (start and end). The dataset is archived.",
            "fields": {"non_field_errors": ["Set the sending hours (start and end).", "The dataset is archived."]},
        }
    },
    response_only=True,
    status_codes=["409"],
)


def _lifecycle_schema(verb: str, summary: str, request=None):
    return extend_schema(
        summary=summary,
        request=request,
        responses={200: CampaignSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample(verb, value=CAMPAIGN_EXAMPLE, response_only=True, status_codes=["200"]),
            REFUSED_EXAMPLE,
        ],
    )


@extend_schema_view(
    list=extend_schema(
        summary="Campaigns (one per dataset you can see), with why each could not start now",
        examples=[OpenApiExample("Paused", value=CAMPAIGN_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One campaign", examples=[OpenApiExample("Paused", value=CAMPAIGN_EXAMPLE, response_only=True)]
    ),
)
class CampaignViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
    queryset = Dataset.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = CampaignSerializer
    keyset_ordering = [Key("created_at", descending=True)]

    def get_queryset(self):
        datasets = datasets_visible_to(self.request.user).select_related("campaign_settings")
        if self.action == "list" and (status_ := self.request.query_params.get("status")):
            datasets = datasets.filter(
                campaign_status=choice_param(self.request, "status", Dataset.CampaignStatus.values) or status_
            )
        return datasets

    @extend_schema(
        methods=["GET"],
        summary="The campaign's settings (the dataset's own, or those it would start from)",
        responses=CampaignSettingsSerializer,
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change settings: the settings form's validation, and a running campaign refuses what would stop it",
        request=CampaignSettingsSerializer,
        responses={200: CampaignSettingsSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Wording and hours",
                value={
                    "m1_message": "Hi {first_name}, it's {agent_name} from {company}…",
                    "sending_hours_end": "18:00",
                },
                request_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["get", "patch"], url_path="settings")
    def campaign_settings(self, request, pk=None):  # not `settings`: APIView.settings is DRF's own
        dataset = self.get_object()
        options = settings_for_editing(dataset)
        if request.method == "GET":
            return Response(CampaignSettingsSerializer(options).data)
        if not can(request.user, Action.EDIT_CAMPAIGN_SETTINGS):
            raise PermissionDenied("Your role does not allow changing campaign settings.")
        json_object(request, "Send a JSON object of the settings to change.")
        unknown = sorted(set(request.data) - set(CampaignSettingsSerializer.Meta.fields))
        if unknown:
            raise ValidationError({name: ["Not a campaign setting."] for name in unknown})
        form = CampaignSettingsForm(
            {**self._form_values(options), **request.data},
            instance=options,
            custom_columns=dataset_custom_columns(dataset),
        )
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        try:
            with transaction.atomic():
                saved = campaign_settings_save(dataset=dataset, options=form.save(commit=False), client=request.tenant)
                if template_name := form.cleaned_data.get("save_as_template"):
                    campaign_settings_save_as_template(options=saved, name=template_name)
        except CampaignRefused as refused:
            return _refused(refused.problems, "The campaign is running, so this can't be saved")
        return Response(CampaignSettingsSerializer(saved).data)

    @staticmethod
    def _form_values(options: CampaignSettings) -> dict:
        """The current values as the form reads them, so a PATCH need only send what changes."""
        values = model_to_dict(options, fields=SETTINGS_FIELDS)
        for name in ("sending_hours_start", "sending_hours_end"):
            if values.get(name) is not None:
                values[name] = values[name].strftime("%H:%M")
        values["territory_rules"] = territory_rules_text(options.territory_rules)
        # The phone number is always required: the form adds it itself and does not offer it.
        values["required_fields"] = [f for f in values.get("required_fields") or [] if f != "phone_number"]
        return {name: value for name, value in values.items() if value is not None}

    def _lifecycle(self, request, verb: str, **extra) -> Response:
        if not can(request.user, Action.RUN_CAMPAIGNS):
            raise PermissionDenied("Your role does not allow running campaigns.")
        dataset = self.get_object()
        try:
            dataset = ACTIONS[verb](dataset=dataset, at=timezone.now(), actor=request.user, **extra)
        except CampaignRefused as refused:
            return _refused(refused.problems, f"The campaign cannot {verb}")
        return Response(self.get_serializer(dataset).data)

    @_lifecycle_schema("Started", "Start the campaign (a draft, or a paused one)")
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._lifecycle(request, "start")

    @_lifecycle_schema("Paused", "Pause a running campaign", request=PauseSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        body = PauseSerializer(data=request.data if isinstance(request.data, dict) else {})
        body.is_valid(raise_exception=True)
        reason = body.validated_data.get("reason", "").strip()
        text = f"Paused by {request.user.get_full_name()}" + (f": {reason}" if reason else "")
        return self._lifecycle(request, "pause", reason=text)

    @_lifecycle_schema("Resumed", "Resume a paused campaign")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._lifecycle(request, "resume")

    @_lifecycle_schema("Completed", "Complete the campaign: no more cadence texts from this dataset")
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._lifecycle(request, "complete")

    @extend_schema(
        summary="Save the campaign's settings as a reusable template (a copy: later edits of either stay apart)",
        request=TemplateSaveSerializer,
        responses={201: CampaignTemplateSerializer},
        examples=[
            OpenApiExample("Save", value={"name": "Solar, Q1", "description": "Friendly, 3 steps"}, request_only=True),
            OpenApiExample("Saved", value=TEMPLATE_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    )
    @action(detail=True, methods=["post"], url_path="save-as-template")
    def save_as_template(self, request, pk=None):
        if not can(request.user, Action.EDIT_CAMPAIGN_SETTINGS):
            raise PermissionDenied("Your role does not allow changing campaign settings.")
        dataset = self.get_object()
        body = TemplateSaveSerializer(data=json_object(request))
        body.is_valid(raise_exception=True)
        try:
            template = campaign_settings_save_as_template(
                options=settings_for_editing(dataset),
                name=body.validated_data["name"],
                description=body.validated_data.get("description") or None,
            )
        except TemplateNameRefused as refused:
            raise ValidationError({"name": [str(refused)]}) from None
        return Response(CampaignTemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Copy a template's values into the campaign's settings (its name and description stay)",
        request=TemplateApplySerializer,
        responses={200: CampaignSettingsSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample("Apply", value={"template": TEMPLATE_EXAMPLE["id"]}, request_only=True),
            OpenApiExample(
                "Applied",
                value={"name": "Solar enquiries 2023 settings", "agent_name": "Jo", "ai_mode": "suggest"},
                response_only=True,
                status_codes=["200"],
            ),
            REFUSED_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"], url_path="apply-template")
    def apply_template(self, request, pk=None):
        if not can(request.user, Action.EDIT_CAMPAIGN_SETTINGS):
            raise PermissionDenied("Your role does not allow changing campaign settings.")
        dataset = self.get_object()
        TemplateApplySerializer(data=json_object(request)).is_valid(raise_exception=True)
        form = TemplateChoiceForm(request.data)  # the page's own choice: templates only
        if not form.is_valid():
            raise ValidationError({"template": ["Choose one of the templates (GET /api/campaign-templates/)."]})
        try:
            saved = campaign_settings_apply_template(
                dataset=dataset, template=form.cleaned_data["template"], client=request.tenant
            )
        except CampaignRefused as refused:
            return _refused(refused.problems, "The campaign is running, so this template can't be used")
        return Response(CampaignSettingsSerializer(saved).data)


# --- Campaign templates ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Reusable campaign templates, by name (apply one with POST /api/campaigns/{id}/apply-template/)",
        examples=[OpenApiExample("A template", value=TEMPLATE_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One template", examples=[OpenApiExample("A template", value=TEMPLATE_EXAMPLE, response_only=True)]
    ),
)
class CampaignTemplateViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
    """Templates belong to the client, not to a dataset: every member reads them, as on the campaign page."""

    queryset = CampaignSettings.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = CampaignTemplateSerializer
    keyset_ordering = [Key("name", nullable=True)]

    def get_queryset(self):
        return CampaignSettings.objects.filter(is_template=True)


# --- The inbox ---------------------------------------------------------------------------------------


class InboxConversationSerializer(ConversationSerializer):
    unread = serializers.IntegerField(read_only=True, help_text="Texts from the lead nobody has read.")
    has_draft = serializers.BooleanField(read_only=True, help_text="A suggestion of Sophie's waits for a person.")
    lead_name = serializers.CharField(source="lead.__str__", read_only=True)
    contact_status = serializers.CharField(source="lead.contact_status", read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "unread", "has_draft", "lead_name", "contact_status"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(
        summary="The inbox: conversations that need a person (unread, hot, needing review, with a draft)",
        parameters=[
            OpenApiParameter("kind", str, enum=list(CONVERSATION_KINDS), description="Only these; all when absent."),
            OpenApiParameter("mine", bool, description="Only leads assigned to you."),
        ],
        examples=[
            OpenApiExample(
                "Unread",
                value={
                    **CONVERSATION_EXAMPLE,
                    "unread": 1,
                    "has_draft": False,
                    "lead_name": "Sam Carter (+447700900123)",
                    "contact_status": "HOT",
                },
                response_only=True,
            )
        ],
    ),
)
class InboxViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Conversation.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = InboxConversationSerializer
    keyset_ordering = [Key("last_message_at", descending=True)]

    def get_queryset(self):
        kind = choice_param(self.request, "kind", list(CONVERSATION_KINDS))
        return inbox_conversations(self.request.user, kind=kind, mine=bool(bool_param(self.request, "mine")))


# --- Texts that reached no lead (the inbox's "Unknown numbers", "Not our number", "Errors") -------------


class InboundTextSerializer(serializers.ModelSerializer):
    attachable = serializers.SerializerMethodField(help_text="Whether it may be attached to a lead or made one.")

    class Meta:
        model = InboundSms
        # Not `params`: everything the provider posted, account ids included, is no integration's business.
        fields = [
            "id",
            "from_number",
            "to_number",
            "body",
            "media",
            "received_at",
            "processed_at",
            "outcome",
            "error",
            "lead",
            "message",
            "attachable",
        ]
        read_only_fields = fields

    def get_attachable(self, text: InboundSms) -> bool:
        return text.outcome in ATTACHABLE


class AttachSerializer(serializers.Serializer):
    lead = IdField(help_text="The lead whose text it is (one you can see).")


class InboundLeadSerializer(serializers.Serializer):
    dataset = IdField(help_text="A dataset you can see; the lead gets the text's number.")
    first_name = TextField(max_length=100)
    last_name = TextField(max_length=100, required=False, allow_blank=True)


INBOUND_TEXT_EXAMPLE = {
    "id": "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a8b",
    "from_number": "+447700900555",
    "to_number": "+447700900001",
    "body": "Is this still available? Sam",
    "media": [],
    "received_at": "2026-11-30T09:58:00Z",
    "processed_at": "2026-11-30T09:58:01Z",
    "outcome": "unmatched",
    "error": "",
    "lead": None,
    "message": None,
    "attachable": True,
}
ATTACHED_EXAMPLE = {
    **INBOUND_TEXT_EXAMPLE,
    "outcome": "matched",
    "lead": LEAD_ID,
    "message": "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f",
    "attachable": False,
}
TEXT_REFUSED_EXAMPLE = OpenApiExample(
    "Refused",
    value={
        "error": {
            "code": "text_refused",
            "message": "This text is no longer waiting for a lead: it was attached or processed meanwhile.",
            "fields": {},
        }
    },
    response_only=True,
    status_codes=["409"],
)


class TextRefused(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "text_refused"


@extend_schema_view(
    list=extend_schema(
        summary="Texts that reached no lead, newest first (for members who see every dataset and lead)",
        parameters=[OpenApiParameter("kind", str, enum=list(TEXT_KINDS), description="Only these; all when absent.")],
        examples=[OpenApiExample("Unknown number", value=INBOUND_TEXT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One text that reached no lead",
        examples=[OpenApiExample("Unknown number", value=INBOUND_TEXT_EXAMPLE, response_only=True)],
    ),
)
class InboundTextViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
    """Such a text belongs to no dataset, so only members who see every lead see it (as in the inbox);
    attaching one or making a lead of it needs `attach_texts`."""

    queryset = InboundSms.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = InboundTextSerializer
    keyset_ordering = [Key("received_at", descending=True)]

    def get_queryset(self):
        kind = choice_param(self.request, "kind", list(TEXT_KINDS)) if self.action == "list" else ""
        return unrouted_texts_visible_to(self.request.user, kind=kind)

    def _attachable(self) -> InboundSms:
        if not can(self.request.user, Action.ATTACH_TEXTS):
            raise PermissionDenied("Your role does not allow attaching texts to leads.")
        return self.get_object()

    def _done(self, text: InboundSms, code: int = status.HTTP_200_OK) -> Response:
        return Response(InboundTextSerializer(InboundSms.objects.get(pk=text.pk)).data, status=code)

    @extend_schema(
        summary="Attach the text to a lead: it becomes that lead's reply (conversation, status, Sophie)",
        request=AttachSerializer,
        responses={200: InboundTextSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample("Attach", value={"lead": LEAD_ID}, request_only=True),
            OpenApiExample("Attached", value=ATTACHED_EXAMPLE, response_only=True, status_codes=["200"]),
            TEXT_REFUSED_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def attach(self, request, pk=None):
        text = self._attachable()
        body = AttachSerializer(data=json_object(request))
        body.is_valid(raise_exception=True)
        lead = lead_for(request.user, body.validated_data["lead"])
        try:
            inbound_attach(inbound=text, lead=lead, at=timezone.now())
        except NotAttachable as refused:
            raise TextRefused(str(refused)) from None
        return self._done(text)

    @extend_schema(
        summary="Make a new lead with the text's number, then attach the text to it",
        request=InboundLeadSerializer,
        responses={201: InboundTextSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample(
                "New lead", value={"dataset": DATASET_ID, "first_name": "Sam", "last_name": "Carter"}, request_only=True
            ),
            OpenApiExample("Made", value=ATTACHED_EXAMPLE, response_only=True, status_codes=["201"]),
            TEXT_REFUSED_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"], url_path="create-lead")
    def create_lead(self, request, pk=None):
        text = self._attachable()
        body = InboundLeadSerializer(data=json_object(request))
        body.is_valid(raise_exception=True)
        dataset_for(request.user, body.validated_data["dataset"])  # 404 for a dataset not yours, like a lead
        # The page's own form decides which datasets may take the lead.
        form = InboundLeadForm(
            {name: str(value) for name, value in body.validated_data.items()},
            datasets=datasets_visible_to(request.user),
        )
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        try:
            row = inbound_lead_create(inbound=text, actor=request.user, at=timezone.now(), **form.cleaned_data)
        except NotAttachable as refused:
            raise TextRefused(str(refused)) from None
        return self._done(row, status.HTTP_201_CREATED)


ROUTES = [
    ("conversations", ConversationViewSet, "conversation"),
    ("messages", MessageViewSet, "message"),
    ("campaigns", CampaignViewSet, "campaign"),
    ("inbox", InboxViewSet, "inbox"),
    ("inbox-texts", InboundTextViewSet, "inbox-text"),
    ("campaign-templates", CampaignTemplateViewSet, "campaign-template"),
    # Settings › Users and Company, beside the Settings pages (campaigns/views/settings.py)
    ("users", settings_api.UserViewSet, "user"),
    ("client", settings_api.ClientViewSet, "client"),
]
