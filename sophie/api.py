"""Sophie's API: the GDPR endpoints (docs/security.md §5, client admins only), lessons and insights
(docs/learning.md) and prompts (docs/prompts.md), each write through the same service as the pages and the admin."""

from django.core.exceptions import BadRequest, PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
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
    json_object,
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
from sophie.models import Insight, Lesson, Prompt, PromptTrial, PromptVersion
from sophie.performance import MIN_SAMPLE, prompt_performance, versions_charted, versions_performance
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
from sophie.trials import ShareRefused, TrialRefused, trial_comparison, trial_promote, trial_start, trial_stop


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
        data = json_object(request)
        return {name: data.get(name) for name in EDITABLE if not partial or name in data}


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
        data = json_object(request)
        fields = {name: data.get(name) for name in EDITABLE if name in data} or None
        return self._review(insight_approve, fields=fields)

    @action(detail=True, methods=["post"])
    def teach(self, request, pk=None):
        return self._review(
            insight_teach,
            should_have_said=str(json_object(request).get("should_have_said") or ""),
            title=str(json_object(request).get("title") or ""),
        )

    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        return self._review(insight_dismiss, feedback=str(json_object(request).get("feedback") or ""))

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


# --- Figures: a version's performance and a trial's comparison (sophie/performance.py, sophie/trials.py) ------


class RateSerializer(serializers.Serializer):
    """`Rate.as_dict()`: successes out of n, the rate (null with no data) and its 95% Wilson interval."""

    successes = serializers.IntegerField()
    n = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)
    low = serializers.FloatField()
    high = serializers.FloatField()

    def to_representation(self, instance):
        return instance.as_dict()


class PromptPerformanceSerializer(serializers.Serializer):
    """`Performance.as_dict()`, the figures the version's page shows (documents the answer; the selector makes it)."""

    prompt_id = serializers.UUIDField()
    version = serializers.CharField()
    conversations = serializers.IntegerField(help_text="Conversations this version wrote in.")
    ai_texts = serializers.IntegerField()
    reply_rate = RateSerializer(help_text="This version's texts the lead answered before our next text.")
    booking_rate = RateSerializer(help_text="Conversations with a call booked after this version's first text.")
    opt_out_rate = RateSerializer(help_text="Conversations whose lead opted out after this version's first text.")
    handoff_rate = RateSerializer(help_text="Conversations in which this version handed the lead to a person.")
    avg_sentiment = serializers.FloatField(allow_null=True, help_text="-1 (negative) to +1 (positive).")
    sentiment_n = serializers.IntegerField()
    performance_vs_previous = serializers.FloatField(
        allow_null=True, help_text="Reply rate minus the previous version's, when both have enough texts."
    )
    minimum_sample = serializers.IntegerField(help_text="Below this n a rate is 'not enough data yet'.")


class ArmComparisonSerializer(serializers.Serializer):
    """One rate, trial arm against the live version's arm, with the two-proportion z-test."""

    label = serializers.CharField()
    trial = RateSerializer()
    control = RateSerializer()
    difference = serializers.SerializerMethodField(help_text="Trial rate minus live rate; null if an arm is empty.")
    z = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True)
    enough = serializers.BooleanField(help_text="Both arms have at least `minimum_sample`.")
    significant = serializers.BooleanField(help_text="Enough data and p < 0.05.")
    better = serializers.ChoiceField(
        choices=["trial", "control", ""], help_text="The arm a significant difference favours; '' otherwise."
    )

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_difference(self, row):
        if row.trial.value is None or row.control.value is None:
            return None
        return row.trial.value - row.control.value


class TrialComparisonSerializer(serializers.Serializer):
    conversations_trial = serializers.IntegerField()
    conversations_control = serializers.IntegerField()
    rates = ArmComparisonSerializer(many=True)
    minimum_sample = serializers.SerializerMethodField()

    def get_minimum_sample(self, comparison) -> int:
        return MIN_SAMPLE


class PromptTrialSerializer(serializers.ModelSerializer):
    candidate_version = serializers.CharField(source="candidate.version", read_only=True)
    control_version = serializers.CharField(source="control.version", read_only=True)

    class Meta:
        model = PromptTrial
        fields = [
            "id",
            "dataset",
            "candidate",
            "candidate_version",
            "control",
            "control_version",
            "share_percent",
            "status",
            "started_at",
            "started_by",
            "ended_at",
            "ended_by",
            "end_reason",
        ]
        read_only_fields = fields


class PromptTrialDetailSerializer(PromptTrialSerializer):
    """A trial with the comparison its prompt's page shows (two runs of the performance selector)."""

    comparison = serializers.SerializerMethodField()

    class Meta(PromptTrialSerializer.Meta):
        fields = [*PromptTrialSerializer.Meta.fields, "comparison"]
        read_only_fields = fields

    @extend_schema_field(TrialComparisonSerializer)
    def get_comparison(self, trial):
        return TrialComparisonSerializer(trial_comparison(trial=trial)).data


class TrialConflict(APIException):
    """The trial service's refusal in the current state (409), with its reason."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "trial_refused"


TRIAL_ID = "5b8f0c2e-9d1a-4e7b-8c3f-2a6d4e1b7c90"
PROMPT_ID = "9a3e6d1c-4b7f-4c2a-9e8d-1f0b3c5a7d24"
RATE_EXAMPLE = {"successes": 27, "n": 60, "rate": 0.45, "low": 0.33, "high": 0.58}
PERFORMANCE_EXAMPLE = {
    "prompt_id": PROMPT_ID,
    "version": "3.0",
    "conversations": 60,
    "ai_texts": 142,
    "reply_rate": {"successes": 64, "n": 142, "rate": 0.451, "low": 0.371, "high": 0.533},
    "booking_rate": {"successes": 9, "n": 60, "rate": 0.15, "low": 0.081, "high": 0.261},
    "opt_out_rate": {"successes": 2, "n": 60, "rate": 0.033, "low": 0.009, "high": 0.114},
    "handoff_rate": {"successes": 5, "n": 60, "rate": 0.083, "low": 0.036, "high": 0.181},
    "avg_sentiment": 0.21,
    "sentiment_n": 64,
    "performance_vs_previous": 0.06,
    "minimum_sample": MIN_SAMPLE,
}
TRIAL_EXAMPLE = {
    "id": TRIAL_ID,
    "dataset": "7c1f3b8e-2a4d-4e6f-8b9a-0c1d2e3f4a5b",
    "candidate": PROMPT_ID,
    "candidate_version": "3.1",
    "control": "2d4f6a8c-1e3b-4d5f-8a7c-9e0b1c2d3f4a",
    "control_version": "3.0",
    "share_percent": 20,
    "status": "running",
    "started_at": "2026-11-30T10:00:00Z",
    "started_by": "0e7d8c52-47a1-4c1a-a8a4-5e8b0f7f6d21",
    "ended_at": None,
    "ended_by": None,
    "end_reason": "",
}
TRIAL_DETAIL_EXAMPLE = {
    **TRIAL_EXAMPLE,
    "comparison": {
        "conversations_trial": 61,
        "conversations_control": 240,
        "rates": [
            {
                "label": "Reply rate after an AI text",
                "trial": RATE_EXAMPLE,
                "control": {"successes": 80, "n": 250, "rate": 0.32, "low": 0.266, "high": 0.379},
                "difference": 0.13,
                "z": 1.93,
                "p_value": 0.054,
                "enough": True,
                "significant": False,
                "better": "",
            }
        ],
        "minimum_sample": MIN_SAMPLE,
    },
}
TRIAL_REFUSED_EXAMPLE = OpenApiExample(
    "Refused",
    value={
        "error": {
            "code": "trial_refused",
            "message": "A trial is already running for North (v3.1 at 20%): stop it or make it live first.",
            "fields": {},
        }
    },
    response_only=True,
    status_codes=["409"],
)


class PromptViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
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
        _may_edit_prompts(self.request.user)
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

    @extend_schema(
        summary="A version's figures: reply, booking, opt-out and hand-off rates with their intervals, sentiment, "
        "reply rate against the previous version",
        responses=PromptPerformanceSerializer,
        examples=[OpenApiExample("Figures", value=PERFORMANCE_EXAMPLE, response_only=True)],
    )
    @action(detail=True, methods=["get"])
    def performance(self, request, pk=None):
        return Response(prompt_performance(prompt=self.get_object()).as_dict())

    @extend_schema(
        summary="The version page's chart: this version's and its chain's published versions' figures, oldest first "
        "(at most 8)",
        responses=PromptPerformanceSerializer(many=True),
        examples=[OpenApiExample("Figures", value=[PERFORMANCE_EXAMPLE], response_only=True)],
    )
    @action(detail=True, methods=["get"], url_path="performance-history", pagination_class=None)
    def performance_history(self, request, pk=None):
        shown = versions_charted(prompt=self.get_object())
        return Response([figures.as_dict() for figures in versions_performance(shown)])

    @extend_schema(
        summary="Put this draft on trial beside the live version for a share (1-99%) of its dataset's new "
        "conversations",
        request=inline_serializer(
            "PromptTrialStart",
            {"share_percent": serializers.IntegerField(min_value=1, max_value=99, help_text="Percent, 1-99.")},
        ),
        responses={201: PromptTrialDetailSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample("Start", value={"share_percent": 20}, request_only=True),
            OpenApiExample("Started", value=TRIAL_DETAIL_EXAMPLE, response_only=True, status_codes=["201"]),
            TRIAL_REFUSED_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def trial(self, request, pk=None):
        _may_edit_prompts(request.user)
        prompt = self.get_object()
        share = json_object(request).get("share_percent")
        if share is None or share == "" or isinstance(share, bool):
            raise ValidationError({"share_percent": ["A whole number of percent, between 1 and 99."]})
        try:
            trial = trial_start(prompt=prompt, share_percent=share, actor=request.user, at=timezone.now())
        except ShareRefused as refused:
            raise ValidationError({"share_percent": [str(refused)]}) from None
        except TrialRefused as refused:
            raise TrialConflict(str(refused)) from None
        return Response(PromptTrialDetailSerializer(trial).data, status=status.HTTP_201_CREATED)

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


def _may_edit_prompts(user) -> None:
    if not can(user, Action.EDIT_PROMPTS):
        raise ApiPermissionDenied("Your role does not allow changing prompts.")


TRIAL_STATUSES = [*PromptTrial.Status.values, "ended"]


class TrialStopSerializer(serializers.Serializer):
    reason = TextField(required=False, allow_blank=True, max_length=1000, help_text="Why it was stopped.")


@extend_schema_view(
    list=extend_schema(
        summary="Prompt trials, running and ended, newest first (the figures are on each trial's own page)",
        parameters=[
            OpenApiParameter("status", str, enum=TRIAL_STATUSES, description="`ended`: stopped or made live."),
            OpenApiParameter("dataset", OpenApiTypes.UUID),
            OpenApiParameter("prompt", OpenApiTypes.UUID, description="Trials of this version, or against it."),
        ],
        examples=[OpenApiExample("A trial", value=TRIAL_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One trial with the comparison: each arm's rates with their 95% intervals, the difference, z and p",
        responses=PromptTrialDetailSerializer,
        examples=[OpenApiExample("A trial", value=TRIAL_DETAIL_EXAMPLE, response_only=True)],
    ),
)
class PromptTrialViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
    """Trials of the prompt versions the caller may see (their dataset's). Start one with
    `POST /api/prompts/{id}/trial/`; `POST {id}/stop/` {reason} and `promote/` need `edit_prompts`."""

    queryset = PromptTrial.objects.none()  # names the model for the schema; get_queryset applies access
    keyset_ordering = [Key("started_at", descending=True)]

    def get_serializer_class(self):
        return PromptTrialSerializer if self.action == "list" else PromptTrialDetailSerializer

    def get_queryset(self):
        # Visible as the page shows them: through the trial's version (sophie.prompt_pages._trial_for).
        trials = PromptTrial.objects.filter(candidate__in=prompts_visible_to(self.request.user)).select_related(
            "candidate", "control"
        )
        if self.action != "list":
            return trials
        params = self.request.query_params
        wanted = choice_param(self.request, "status", TRIAL_STATUSES)
        if wanted == "ended":
            trials = trials.exclude(status=PromptTrial.Status.RUNNING)
        elif wanted:
            trials = trials.filter(status=wanted)
        if dataset := params.get("dataset"):
            trials = trials.filter(dataset_id=uuid_param(dataset, name="dataset"))
        if prompt := params.get("prompt"):
            prompt_id = uuid_param(prompt, name="prompt")
            trials = trials.filter(Q(candidate_id=prompt_id) | Q(control_id=prompt_id))
        return trials

    def _act(self, service, **kwargs) -> Response:
        _may_edit_prompts(self.request.user)
        trial = self.get_object()
        try:
            service(trial=trial, actor=self.request.user, at=timezone.now(), **kwargs)
        except (TrialRefused, PromptRefused) as refused:
            # A promote refused by go-live (the live version changed since the trial began) is a state too.
            raise TrialConflict(str(refused)) from None
        return Response(PromptTrialDetailSerializer(self.get_queryset().get(pk=trial.pk)).data)

    @extend_schema(
        summary="Stop a running trial: its conversations go back to the live version from their next reply",
        request=TrialStopSerializer,
        responses={200: PromptTrialDetailSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample("Stop", value={"reason": "Too many opt-outs"}, request_only=True),
            OpenApiExample(
                "Stopped",
                value={
                    **TRIAL_DETAIL_EXAMPLE,
                    "status": "stopped",
                    "ended_at": "2026-12-07T10:00:00Z",
                    "ended_by": TRIAL_EXAMPLE["started_by"],
                    "end_reason": "Too many opt-outs",
                },
                response_only=True,
                status_codes=["200"],
            ),
            TRIAL_REFUSED_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        _may_edit_prompts(request.user)
        body = TrialStopSerializer(data=json_object(request))
        body.is_valid(raise_exception=True)
        return self._act(trial_stop, reason=body.validated_data.get("reason", ""))

    @extend_schema(
        summary="Make the trial's version live for every conversation (refused if the live version changed since "
        "the trial began)",
        request=None,
        responses={200: PromptTrialDetailSerializer, 409: ErrorSerializer},
        examples=[
            OpenApiExample(
                "Made live",
                value={
                    **TRIAL_DETAIL_EXAMPLE,
                    "status": "promoted",
                    "ended_at": "2026-12-07T10:00:00Z",
                    "ended_by": TRIAL_EXAMPLE["started_by"],
                    "end_reason": "The trial version was made live.",
                },
                response_only=True,
                status_codes=["200"],
            ),
            TRIAL_REFUSED_EXAMPLE,
        ],
    )
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        return self._act(trial_promote)


ROUTES += [("prompts", PromptViewSet, "prompts"), ("prompt-trials", PromptTrialViewSet, "prompt-trial")]


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
        body = DraftSendSerializer(data=json_object(request))
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
