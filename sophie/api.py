"""Sophie's API: the GDPR endpoints (docs/security.md §5, client admins only), and lessons and insights
(docs/learning.md), each write through the same service as the pages and the admin."""

from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from clients.roles import is_client_admin
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
from sophie.models import Insight, Lesson


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

    @action(detail=False, methods=["get"])
    def export(self, request):
        data = lead_data_export(phone_number=_number(request.query_params))
        response = HttpResponse(data, content_type="application/json")
        response["Content-Disposition"] = 'attachment; filename="lead-data.json"'
        return response

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
            return Response({"detail": str(refused)}, status=code)
        insight.refresh_from_db()
        return Response(InsightSerializer(insight).data)


ROUTES = [
    ("lead-data", LeadDataViewSet, "lead-data"),
    ("lessons", LessonViewSet, "lessons"),
    ("insights", InsightViewSet, "insights"),
]
