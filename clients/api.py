"""The API's own resources of the `clients` app (docs/api.md): notifications and API tokens. Users and the
client's settings are in `campaigns.settings_api`, beside the Settings pages."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clients.api_base import Key, UuidLookup
from clients.api_tokens import api_token_create, api_token_revoke, api_tokens_visible_to
from clients.models import ApiToken, Notification
from clients.notifications import notification_mark_read, notifications_mark_all_read


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "lead_id", "url", "read_at", "created_at"]
        read_only_fields = fields


NOTIFICATION_EXAMPLE = {
    "id": "5b0c1c1e-8a39-4f5b-9f53-2f1d3f2b9b10",
    "kind": "hot",
    "title": "Hot lead: Sam Carter",
    "body": "Sam replied “yes please, call me after 5”.",
    "lead_id": "0e7d8c52-47a1-4c1a-a8a4-5e8b0f7f6d21",
    "url": "/leads/0e7d8c52-47a1-4c1a-a8a4-5e8b0f7f6d21/",
    "read_at": None,
    "created_at": "2026-11-30T10:15:00Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="Your notifications, newest first",
        parameters=[OpenApiParameter("unread", bool, description="true: only those not read yet.")],
        examples=[OpenApiExample("A hot lead", value=NOTIFICATION_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One notification",
        examples=[OpenApiExample("A hot lead", value=NOTIFICATION_EXAMPLE, response_only=True)],
    ),
)
class NotificationViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
    """The bell: the caller's own notifications on this client."""

    queryset = Notification.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = NotificationSerializer
    keyset_ordering = [Key("created_at", descending=True)]

    def get_queryset(self):
        notifications = Notification.objects.filter(user=self.request.user, client=self.request.tenant)
        if self.action == "list" and self.request.query_params.get("unread") in ("1", "true"):
            notifications = notifications.filter(read_at=None)
        return notifications

    @extend_schema(
        summary="Mark one notification read",
        request=None,
        examples=[OpenApiExample("Read", value={**NOTIFICATION_EXAMPLE, "read_at": "2026-11-30T10:20:00Z"})],
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        notification_mark_read(notification=notification, at=timezone.now())
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        summary="Mark all your notifications read",
        request=None,
        responses=inline_serializer("NotificationsRead", {"marked_read": serializers.IntegerField()}),
        examples=[OpenApiExample("Three were unread", value={"marked_read": 3})],
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked_read": notifications_mark_all_read(user=request.user, at=timezone.now())})


class ApiTokenSerializer(serializers.ModelSerializer):
    user = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["id", "prefix", "user", "created_at", "last_used_at", "revoked_at"]


class NewApiTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True, help_text="Shown this once: only its hash is kept.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]


TOKEN_EXAMPLE = {
    "id": "a3c5e1d2-6f7b-4c8d-9e0f-1a2b3c4d5e6f",
    "name": "CRM sync",
    "prefix": "q8Zr2LxP",
    "user": "owner@acme.example",
    "created_at": "2026-11-30T09:00:00Z",
    "last_used_at": "2026-11-30T10:00:00Z",
    "revoked_at": None,
}


@extend_schema_view(
    list=extend_schema(
        summary="API tokens: your own; an admin sees every token of the client",
        parameters=[OpenApiParameter("revoked", bool, description="true: include revoked tokens.")],
        examples=[OpenApiExample("One token", value=TOKEN_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One API token", examples=[OpenApiExample("One token", value=TOKEN_EXAMPLE, response_only=True)]
    ),
    create=extend_schema(
        summary="Make a token for yourself; its key is in this response only",
        responses={201: NewApiTokenSerializer},
        examples=[
            OpenApiExample("Name it", value={"name": "n8n workflow"}, request_only=True),
            OpenApiExample(
                "Made",
                value={**TOKEN_EXAMPLE, "name": "n8n workflow", "last_used_at": None, "key": "q8Zr2LxP…"},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    ),
    destroy=extend_schema(summary="Revoke a token (yours; an admin: any of the client's)", responses={204: None}),
)
class ApiTokenViewSet(UuidLookup, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ApiToken.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = ApiTokenSerializer
    keyset_ordering = [Key("created_at", descending=True)]

    def get_queryset(self):
        tokens = api_tokens_visible_to(self.request.user, self.request.tenant)
        if self.action == "list" and self.request.query_params.get("revoked") not in ("1", "true"):
            tokens = tokens.filter(revoked_at=None)
        return tokens

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        made = api_token_create(user=request.user, name=serializer.validated_data["name"])
        body = NewApiTokenSerializer(made.token).data | {"key": made.key}
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        api_token_revoke(token=self.get_object(), actor=request.user, client=request.tenant, at=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


ROUTES = [
    ("notifications", NotificationViewSet, "notification"),
    ("api-tokens", ApiTokenViewSet, "api-token"),
]
