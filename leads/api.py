from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError

from clients.params import uuid_param
from clients.roles import Action, can
from leads.models import Dataset, Lead
from leads.selectors import datasets_visible_to, leads_visible_to
from leads.services import lead_status_change


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "description",
            "source",
            "campaign_status",
            "campaign_start_date",
            "campaign_end_date",
            "total_leads",
            "active_leads",
            "hot_leads",
            "converted_leads",
            "archived",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = [
            "id",
            "dataset",
            "first_name",
            "last_name",
            "phone_number",
            "email",
            "postcode",
            "inquiry_date",
            "notes",
            "contact_status",
            "lead_sentiment",
            "m1_sent_at",
            "m2_sent_at",
            "m3_sent_at",
            "reply_received_at",
            "last_message_at",
            "call_booked",
            "call_booked_time",
            "manual_mode",
            "archived",
            "assigned_to",
            "latest_lead_reply",
            "total_messages",
            "sms_capable",
            "sms_capable_reason",
            "is_duplicate",
            "duplicate_of",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f != "contact_status"]


class DatasetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DatasetSerializer

    def get_queryset(self):
        return datasets_visible_to(self.request.user).order_by("-created_at")


class LeadViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Leads the caller may see; PATCH changes `contact_status` (role permitting)."""

    serializer_class = LeadSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        leads = leads_visible_to(self.request.user).order_by("-created_at")
        if dataset := self.request.query_params.get("dataset"):
            leads = leads.filter(dataset_id=uuid_param(dataset, name="dataset"))
        if status := self.request.query_params.get("status"):
            leads = leads.filter(contact_status=status)
        return leads

    def perform_update(self, serializer):
        if not can(self.request.user, Action.CHANGE_LEAD_STATUS):
            raise PermissionDenied("Your role does not allow changing a lead's status.")
        status = serializer.validated_data.get("contact_status")
        if status is None:
            raise ValidationError({"contact_status": "Send the new contact_status."})
        try:
            lead_status_change(lead=serializer.instance, status=status, actor=self.request.user, reason="API")
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None


# (prefix, viewset, basename): registered with every other app's routes in dbr/api.py's one router.
ROUTES = [
    ("datasets", DatasetViewSet, "dataset"),
    ("leads", LeadViewSet, "lead"),
]
