"""The API's GDPR endpoints (docs/security.md §5): client admins only."""

from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clients.roles import is_client_admin
from sophie.gdpr import lead_data_export, lead_erase


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


ROUTES = [("lead-data", LeadDataViewSet, "lead-data")]
