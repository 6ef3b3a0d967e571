"""The API of the `campaigns` app (docs/api.md): conversations and messages (a staff text is sent through
the staff-reply service), campaigns (settings with the settings form's validation; start, pause, resume,
complete with every refusal reason) and the inbox."""

from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from campaigns.forms import CampaignSettingsForm
from campaigns.inbox import conversation_mark_read
from campaigns.models import Conversation, Message
from campaigns.replies import ReplyRefused, staff_reply_send
from campaigns.selectors import (
    CONVERSATION_KINDS,
    PLANNED,
    conversations_visible_to,
    inbox_conversations,
    messages_visible_to,
)
from campaigns.services import ACTIONS, CampaignRefused, start_problems
from campaigns.settings_services import campaign_settings_save, settings_for_editing
from clients.api_base import (
    IDEMPOTENCY_PARAMETER,
    ErrorSerializer,
    Key,
    UuidLookup,
    bool_param,
    choice_param,
    error_response,
    idempotent,
)
from clients.params import uuid_param
from clients.roles import Action, can
from leads.assignment import territory_rules_text
from leads.models import CampaignSettings, Dataset
from leads.selectors import dataset_custom_columns, datasets_visible_to, lead_for

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
    lead = serializers.UUIDField(help_text="The lead to text (one you can see).")
    text = serializers.CharField(max_length=1600, trim_whitespace=True)
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


@extend_schema_view(
    list=extend_schema(
        summary="Texts of the leads you can see (Sophie's planned replies are not texts yet)",
        parameters=[
            LEAD_PARAMETER,
            OpenApiParameter("conversation", OpenApiTypes.UUID),
            OpenApiParameter("direction", str, enum=Message.Direction.values),
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


class CampaignSettingsSerializer(serializers.ModelSerializer):
    """The settings form's fields. A PATCH sends only what changes; the form's checks decide."""

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
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Send a JSON object of the settings to change."]})
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
                    from campaigns.settings_services import campaign_settings_save_as_template

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


ROUTES = [
    ("conversations", ConversationViewSet, "conversation"),
    ("messages", MessageViewSet, "message"),
    ("campaigns", CampaignViewSet, "campaign"),
    ("inbox", InboxViewSet, "inbox"),
]
