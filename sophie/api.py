"""Sophie's API: the GDPR endpoints (docs/security.md §5, client admins only), lessons and insights
(docs/learning.md) and prompts (docs/prompts.md), each write through the same service as the pages and the admin."""

from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.response import Response

from campaigns.api import (
    CONVERSATION_EXAMPLE,
    MESSAGE_EXAMPLE,
    ConversationSerializer,
    MessageSerializer,
)
from campaigns.models import Conversation, Message
from campaigns.selectors import PLANNED, conversations_visible_to, messages_visible_to
from clients.api_base import (
    IDEMPOTENCY_PARAMETER,
    ErrorSerializer,
    Key,
    TextField,
    UuidLookup,
    choice_param,
    error_response,
    idempotent,
)
from clients.params import uuid_param
from clients.roles import Action, can, is_client_admin
from sophie.gdpr import lead_data_export, lead_erase
from sophie.insights.review import (
    InsightRefused,
    insight_approve,
    insight_dismiss,
    insight_teach,
    insights_find,
    insights_visible_to,
)
from sophie.lessons import EDITABLE, LessonRefused, lesson_archive, lesson_create, lesson_update, lessons_find
from sophie.models import Insight, Lesson, Prompt, PromptVersion
from sophie.performance import prompt_performance
from sophie.prompts import (
    UNCHECKED,
    PromptRefused,
    prompt_go_live,
    prompt_lesson_apply,
    prompt_rollback,
    prompt_sections_save,
)
from sophie.review import (
    ReviewRefused,
    draft_discard,
    draft_send,
    handoff_clear,
    planned_reply_cancel,
    planned_reply_send_now,
)
from sophie.selectors import prompts_visible_to


def _number(data) -> str:
    number = (data.get("phone_number") or "").strip()
    if not number.startswith("+"):
        raise BadRequest("phone_number must be the person's number in E.164, like +447700900123.")
    return number


class LeadDataViewSet(viewsets.ViewSet):
    """`GET export/?phone_number=…` a subject access export; `POST erase/` {phone_number} the erasure."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not is_client_admin(request.user):
            raise PermissionDenied("Only the client's administrators may export or erase a person's data.")

    @extend_schema(
        summary="Everything held about one person (subject access), as a JSON file",
        parameters=[OpenApiParameter("phone_number", str, required=True, description="E.164, like +447700900123.")],
        responses={(200, "application/json"): OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        data = lead_data_export(phone_number=_number(request.query_params))
        response = HttpResponse(data, content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="lead-data.json"'
        return response

    @extend_schema(
        summary="Erase one person's data (their number is suppressed)",
        request=inline_serializer("LeadErase", {"phone_number": serializers.CharField()}),
        responses=inline_serializer("LeadErased", {"erased": serializers.JSONField()}),
        examples=[OpenApiExample("Erase", value={"phone_number": "+447700900123"}, request_only=True)],
    )
    @action(detail=False, methods=["post"])
    def erase(self, request):
        done = lead_erase(phone_number=_number(request.data), actor=request.user, at=timezone.now())
        return Response({"erased": done})


class LessonSerializer(serializers.ModelSerializer):
    """Every seed field; the figures, source and author are read-only (the services keep them)."""

    class Meta:
        model = Lesson
        fields = [
            "id",
            *EDITABLE,
            "times_applied",
            "success_rate",
            "source",
            "source_message",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "times_applied", "success_rate", "source", "source_message", "created_by"]
        read_only_fields += ["created_at", "updated_at"]
        extra_kwargs = {"title": {"allow_blank": True}}


def _refused(refused: Exception) -> ValidationError:
    return ValidationError({"detail": str(refused)})


class LessonViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Everyone signed in reads; writing needs `can_edit_lessons`. `?q=` searches, `?lesson_type=`, `?tag=`
    and `?status=` (`all` includes archived) filter. `POST {id}/archive/` archives."""

    serializer_class = LessonSerializer

    def get_queryset(self):
        params = self.request.query_params
        if self.action != "list":
            return Lesson.objects.all()
        return lessons_find(**{name: params.get(name, "") for name in ("q", "lesson_type", "tag", "status")})

    def create(self, request, *args, **kwargs):
        try:
            lesson = lesson_create(actor=request.user, fields=self._fields(request))
        except LessonRefused as refused:
            raise _refused(refused) from None
        return Response(LessonSerializer(lesson).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        lesson = self.get_object()
        try:
            lesson = lesson_update(lesson=lesson, actor=request.user, fields=self._fields(request, partial=True))
        except LessonRefused as refused:
            raise _refused(refused) from None
        return Response(LessonSerializer(lesson).data)

    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        try:
            lesson = lesson_archive(lesson=self.get_object(), actor=request.user)
        except LessonRefused as refused:
            raise _refused(refused) from None
        return Response(LessonSerializer(lesson).data)

    def _fields(self, request, partial: bool = False) -> dict:
        data = _data(request)
        return {name: data.get(name) for name in EDITABLE if not partial or name in data}


def _data(request):
    if not hasattr(request.data, "get"):
        raise ValidationError({"detail": "Send a JSON object."})
    return request.data


class InsightSerializer(serializers.ModelSerializer):
    class Meta:
        model = Insight
        fields = [
            "id",
            "insight_type",
            "message",
            "conversation",
            "dataset",
            "severity",
            "category",
            "title",
            "description",
            "suggestion",
            "original_text",
            "suggested_text",
            "affected_leads_count",
            "related_lesson",
            "status",
            "reviewed_by",
            "reviewed_at",
            "user_feedback",
            "finding_key",
            "created_at",
        ]
        read_only_fields = fields


class InsightViewSet(viewsets.ReadOnlyModelViewSet):
    """The review queue: `?status=` (open by default, `closed`, or a status), `?category=`, `?severity=`,
    `?insight_type=`. `POST {id}/approve/` (optional lesson fields), `teach/` {should_have_said}, `dismiss/`
    {feedback} — each once: a second review is refused with 409."""

    queryset = Insight.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = InsightSerializer

    def get_queryset(self):
        if self.action != "list":
            return insights_visible_to(self.request.user)
        params = self.request.query_params
        names = ("status", "category", "severity", "insight_type", "q")
        return insights_find(user=self.request.user, **{name: params.get(name, "") for name in names})

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        data = _data(request)
        fields = {name: data.get(name) for name in EDITABLE if name in data} or None
        return self._review(insight_approve, fields=fields)

    @action(detail=True, methods=["post"])
    def teach(self, request, pk=None):
        return self._review(
            insight_teach,
            should_have_said=str(_data(request).get("should_have_said") or ""),
            title=str(_data(request).get("title") or ""),
        )

    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        return self._review(insight_dismiss, feedback=str(_data(request).get("feedback") or ""))

    def _review(self, service, **kwargs):
        insight = self.get_object()
        try:
            service(insight=insight, actor=self.request.user, at=timezone.now(), **kwargs)
        except InsightRefused as refused:
            insight.refresh_from_db()
            code = status.HTTP_400_BAD_REQUEST if insight.status in Insight.OPEN else status.HTTP_409_CONFLICT
            kind = "invalid" if code == status.HTTP_400_BAD_REQUEST else "already_reviewed"
            return error_response(code, kind, str(refused))  # the API's one error shape (docs/api.md)
        insight.refresh_from_db()
        return Response(InsightSerializer(insight).data)


ROUTES = [
    ("lead-data", LeadDataViewSet, "lead-data"),
    ("lessons", LessonViewSet, "lessons"),
    ("insights", InsightViewSet, "insights"),
]


# --- Prompts (docs/prompts.md "API"): every row is a version; writes go through sophie/prompts.py -------------


class PromptVersionRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = PromptVersion
        fields = [
            "id",
            "version",
            "version_number",
            "changes",
            "changes_summary",
            "performance_before",
            "performance_after",
            "lesson_applied",
            "created_by",
            "created_by_type",
            "created_at",
        ]
        read_only_fields = fields


class PromptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Prompt
        fields = [
            "id",
            "dataset",
            "name",
            "description",
            "version",
            "version_number",
            "status",
            "is_live",
            "previous_version",
            "prompt_structure",
            "compiled_prompt",
            "created_from",
            "template",
            "wizard_answers",
            "applied_lessons",
            "lessons_count",
            "manual_edits_count",
            "changes_summary",
            "deployed_at",
            "deployed_by",
            "created_at",
        ]
        read_only_fields = fields


class PromptViewSet(viewsets.ReadOnlyModelViewSet):
    """Prompt versions the caller may see (`?dataset=<id>` or `?dataset=default`, `?status=`); POST actions:
    `drafts/` {sections: {name: text}, why} a new draft after this version, `go-live/` {replacing},
    `rollback/` {reason, replacing}, `apply-lesson/` {lesson}. `replacing` is the live version's id the caller
    saw (null: none); if another change made a different version live meanwhile, the call is refused."""

    queryset = Prompt.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = PromptSerializer

    def get_queryset(self):
        prompts = prompts_visible_to(self.request.user).order_by("dataset_id", "-version_number")
        dataset = self.request.query_params.get("dataset")
        if dataset == "default":
            prompts = prompts.filter(dataset__isnull=True)
        elif dataset:
            prompts = prompts.filter(dataset_id=uuid_param(dataset, name="dataset"))
        status = self.request.query_params.get("status")
        if status:
            if status not in Prompt.Status.values:
                raise ValidationError({"status": f"One of {', '.join(Prompt.Status.values)}."})
            prompts = prompts.filter(status=status)
        return prompts

    def _change(self, change, *, created: bool = False) -> Response:
        if not can(self.request.user, Action.EDIT_PROMPTS):
            raise ApiPermissionDenied("Your role does not allow changing prompts.")
        try:
            prompt = change()
        except PromptRefused as refused:
            raise ValidationError({"detail": str(refused)}) from None
        return Response(PromptSerializer(prompt).data, status=201 if created else 200)

    def _replacing(self):
        if "replacing" not in self.request.data:
            return UNCHECKED
        value = self.request.data.get("replacing")
        return uuid_param(str(value), name="replacing") if value else None

    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        records = self.get_object().versions.order_by("-created_at")
        return Response(PromptVersionRecordSerializer(records, many=True).data)

    @action(detail=True, methods=["get"])
    def performance(self, request, pk=None):
        return Response(prompt_performance(prompt=self.get_object()).as_dict())

    @action(detail=True, methods=["post"])
    def drafts(self, request, pk=None):
        base = self.get_object()
        sections = request.data.get("sections")
        if not isinstance(sections, dict) or not all(isinstance(v, str) for v in sections.values()):
            raise ValidationError({"sections": 'An object of section name to text, e.g. {"tone": "..."}.'})
        unknown = sorted(set(sections) - set(base.prompt_structure or {}))
        if unknown:
            raise ValidationError({"sections": f"Unknown sections: {', '.join(unknown)}."})
        return self._change(
            lambda: prompt_sections_save(
                base=base,
                contents=sections,
                why=str(request.data.get("why") or ""),
                actor=request.user,
                at=timezone.now(),
            ),
            created=True,
        )

    @action(detail=True, methods=["post"], url_path="go-live")
    def go_live(self, request, pk=None):
        prompt, replacing = self.get_object(), self._replacing()
        return self._change(
            lambda: prompt_go_live(prompt=prompt, actor=request.user, at=timezone.now(), replacing=replacing)
        )

    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        prompt, replacing = self.get_object(), self._replacing()
        reason = str(request.data.get("reason") or "")
        return self._change(
            lambda: prompt_rollback(
                to=prompt, actor=request.user, at=timezone.now(), reason=reason, replacing=replacing
            )
        )

    @action(detail=True, methods=["post"], url_path="apply-lesson")
    def apply_lesson(self, request, pk=None):
        base = self.get_object()
        lesson = Lesson.objects.filter(pk=uuid_param(str(request.data.get("lesson") or ""), name="lesson")).first()
        if lesson is None:
            raise NotFound("No such lesson.")
        return self._change(
            lambda: prompt_lesson_apply(base=base, lesson=lesson, actor=request.user, at=timezone.now()), created=True
        )


ROUTES += [("prompts", PromptViewSet, "prompts")]


# --- Sophie's planned replies and hand-offs (the inbox's and lead page's actions, sophie/review.py) ---------

PLANNED_STATUSES = [str(value) for value in PLANNED]


class ReviewConflict(APIException):
    """A refusal in the reply's current state (409): raised, not returned, so an Idempotency-Key is freed."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "review_refused"


class PlannedReplySerializer(MessageSerializer):
    class Meta(MessageSerializer.Meta):
        fields = [*MessageSerializer.Meta.fields, "due_at"]
        read_only_fields = fields


class DraftSendSerializer(serializers.Serializer):
    text = TextField(
        required=False,
        max_length=1600,
        trim_whitespace=True,
        help_text="The text as edited; leave it out to send the draft as Sophie wrote it.",
    )


PLANNED_EXAMPLE = {
    **MESSAGE_EXAMPLE,
    "content": "Great, Sam. Do you own your home?",
    "message_type": "reply",
    "status": "draft",
    "sent_by": None,
    "queued_at": None,
    "due_at": None,
}
REVIEW_REFUSED_EXAMPLE = OpenApiExample(
    "Refused",
    value={
        "error": {
            "code": "review_refused",
            "message": "This draft is no longer waiting: the lead wrote again or it was sent or discarded.",
            "fields": {},
        }
    },
    response_only=True,
    status_codes=["409"],
)


def _review_schema(summary: str, done: dict, request=None, parameters=None):
    examples = [OpenApiExample("Done", value=done, response_only=True, status_codes=["200"]), REVIEW_REFUSED_EXAMPLE]
    if request is not None:
        examples.insert(
            0, OpenApiExample("Edited", value={"text": "Great news. Do you own the house?"}, request_only=True)
        )
    return extend_schema(
        summary=summary,
        request=request,
        parameters=parameters,
        responses={200: PlannedReplySerializer, 409: ErrorSerializer},
        examples=examples,
    )


@extend_schema_view(
    list=extend_schema(
        summary="Sophie's planned replies: drafts waiting for a person and replies scheduled to be written",
        parameters=[
            OpenApiParameter("status", str, enum=PLANNED_STATUSES, description="Only drafts, or only scheduled."),
            OpenApiParameter("lead", OpenApiTypes.UUID, description="Only this lead's."),
            OpenApiParameter("dataset", OpenApiTypes.UUID),
        ],
        examples=[OpenApiExample("A draft", value=PLANNED_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One planned reply", examples=[OpenApiExample("A draft", value=PLANNED_EXAMPLE, response_only=True)]
    ),
)
class PlannedReplyViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
    """Reading is for every member (leads they can see); each action needs `reply`, as on the pages."""

    queryset = Message.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = PlannedReplySerializer
    keyset_ordering = [Key("created_at", descending=True)]

    def get_queryset(self):
        replies = messages_visible_to(self.request.user).filter(ai_generated=True).select_related("sent_by")
        if self.action in ("list", "retrieve"):
            replies = replies.filter(status__in=PLANNED)
        if self.action == "list":
            params = self.request.query_params
            if status_ := choice_param(self.request, "status", PLANNED_STATUSES):
                replies = replies.filter(status=status_)
            if lead := params.get("lead"):
                replies = replies.filter(lead_id=uuid_param(lead, name="lead"))
            if dataset := params.get("dataset"):
                replies = replies.filter(lead__dataset_id=uuid_param(dataset, name="dataset"))
        return replies

    def _act(self, service, message: Message | None = None, **kwargs) -> Response:
        # The actions act on any of Sophie's replies the caller can see, so a second try is a 409, not a 404.
        if not can(self.request.user, Action.REPLY):
            raise ApiPermissionDenied("Your role does not allow answering leads.")
        message = message or self.get_object()
        try:
            service(message=message, actor=self.request.user, at=timezone.now(), **kwargs)
        except ReviewRefused as refused:
            raise ReviewConflict(str(refused)) from None
        message = Message.objects.select_related("sent_by").get(pk=message.pk)
        return Response(PlannedReplySerializer(message).data)

    @_review_schema(
        "Send a draft as Sophie wrote it, or as edited (a text: the reply box's checks, quiet hours, outbox)",
        {**PLANNED_EXAMPLE, "status": "pending", "sent_by": "jo@acme.example", "queued_at": "2026-11-30T10:00:00Z"},
        request=DraftSendSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        if not can(request.user, Action.REPLY):  # before the key is claimed, as POST /api/messages/ does
            raise ApiPermissionDenied("Your role does not allow answering leads.")
        return idempotent(request, lambda: self._send(request))

    def _send(self, request) -> Response:
        body = DraftSendSerializer(data=_data(request))
        body.is_valid(raise_exception=True)
        message = self.get_object()
        return self._act(draft_send, message, text=body.validated_data.get("text", message.content))

    @_review_schema(
        "Discard a draft: nothing is sent (Sophie learns from it)", {**PLANNED_EXAMPLE, "status": "cancelled"}
    )
    @action(detail=True, methods=["post"])
    def discard(self, request, pk=None):
        return self._act(draft_discard)

    @_review_schema(
        "Cancel a scheduled reply: Sophie answers the lead's next text instead",
        {**PLANNED_EXAMPLE, "status": "cancelled"},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._act(planned_reply_cancel)

    @_review_schema(
        "Have Sophie write a scheduled reply now instead of at its time",
        {**PLANNED_EXAMPLE, "status": "pending", "queued_at": "2026-11-30T10:00:00Z"},
    )
    @action(detail=True, methods=["post"], url_path="send-now")
    def send_now(self, request, pk=None):
        return self._act(planned_reply_send_now)


class HandoffSerializer(ConversationSerializer):
    lead_name = serializers.CharField(source="lead.__str__", read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "lead_name"]
        read_only_fields = fields


HANDOFF_EXAMPLE = {
    **CONVERSATION_EXAMPLE,
    "needs_review": True,
    "handoff_at": "2026-11-30T10:02:00Z",
    "handoff_reason": "Asked about a grant",
    "lead_name": "Sam Carter (+447700900123)",
}


@extend_schema_view(
    list=extend_schema(
        summary="Conversations Sophie handed to a person (she stays silent until the hand-off is cleared)",
        parameters=[OpenApiParameter("dataset", OpenApiTypes.UUID)],
        examples=[OpenApiExample("Handed off", value=HANDOFF_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One handed-off conversation",
        examples=[OpenApiExample("Handed off", value=HANDOFF_EXAMPLE, response_only=True)],
    ),
)
class HandoffViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
    """Keyed by the conversation's id. `POST {id}/clear/` (`reply`) lets Sophie answer the lead again."""

    queryset = Conversation.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = HandoffSerializer
    keyset_ordering = [Key("handoff_at", descending=True)]

    def get_queryset(self):
        conversations = conversations_visible_to(self.request.user).select_related("lead")
        if self.action == "clear":
            return conversations  # clearing twice is harmless, as on the page
        conversations = conversations.filter(handoff_at__isnull=False)
        if self.action == "list" and (dataset := self.request.query_params.get("dataset")):
            conversations = conversations.filter(dataset_id=uuid_param(dataset, name="dataset"))
        return conversations

    @extend_schema(
        summary="Clear the hand-off: Sophie answers this lead's next text again",
        request=None,
        responses=HandoffSerializer,
        examples=[
            OpenApiExample(
                "Cleared",
                value={**HANDOFF_EXAMPLE, "needs_review": False, "handoff_at": None, "handoff_reason": ""},
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def clear(self, request, pk=None):
        if not can(request.user, Action.REPLY):
            raise ApiPermissionDenied("Your role does not allow answering leads.")
        conversation = self.get_object()
        handoff_clear(lead=conversation.lead, actor=request.user, at=timezone.now())
        conversation.refresh_from_db()
        return Response(HandoffSerializer(conversation).data)


ROUTES += [("planned-replies", PlannedReplyViewSet, "planned-reply"), ("handoffs", HandoffViewSet, "handoff")]
