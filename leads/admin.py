from django.contrib import admin
from django.db.models import Q

from clients.admin_sites import ReadOnlyClientModelAdmin, client_admin
from leads.models import CampaignSettings, Dataset, Lead, LeadEvent, Suppression, Upload, WebhookDelivery
from leads.selectors import datasets_visible_to, leads_visible_to


@admin.register(CampaignSettings, site=client_admin)
class CampaignSettingsAdmin(ReadOnlyClientModelAdmin):
    list_display = [
        "name",
        "is_template",
        "sending_enabled",
        "sending_hours_start",
        "sending_hours_end",
        "sending_timezone",
        "messages_per_hour",
        "duplicate_action",
        "updated_at",
    ]
    list_filter = ["is_template", "sending_enabled", "delay_type", "duplicate_action"]
    search_fields = ["name", "description", "m1_message"]


@admin.register(Dataset, site=client_admin)
class DatasetAdmin(ReadOnlyClientModelAdmin):
    list_display = [
        "name",
        "campaign_status",
        "total_leads",
        "active_leads",
        "hot_leads",
        "converted_leads",
        "archived",
        "created_at",
    ]
    list_filter = ["campaign_status", "archived"]
    search_fields = ["name", "description", "source"]
    readonly_fields = ["total_leads", "active_leads", "hot_leads", "converted_leads", "created_at", "updated_at"]
    raw_id_fields = ["uploaded_by", "campaign_settings"]

    def get_queryset(self, request):
        return datasets_visible_to(request.user)


class LeadEventInline(admin.TabularInline):
    model = LeadEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "event_type", "actor", "data"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Lead, site=client_admin)
class LeadAdmin(ReadOnlyClientModelAdmin):
    list_display = [
        "phone_number",
        "first_name",
        "last_name",
        "dataset",
        "contact_status",
        "lead_sentiment",
        "assigned_to",
        "manual_mode",
        "sms_capable",
        "is_duplicate",
        "last_message_at",
    ]
    list_filter = [
        "contact_status",
        "lead_sentiment",
        "manual_mode",
        "archived",
        "call_booked",
        "sms_capable",
        "is_duplicate",
        "dataset",
    ]
    search_fields = ["first_name", "last_name", "phone_number", "email", "postcode"]
    raw_id_fields = ["dataset", "assigned_to", "duplicate_of"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [LeadEventInline]
    list_select_related = ["dataset", "assigned_to"]

    def get_queryset(self, request):
        return leads_visible_to(request.user)


@admin.register(Upload, site=client_admin)
class UploadAdmin(ReadOnlyClientModelAdmin):
    list_display = [
        "filename",
        "dataset",
        "status",
        "rows_detected",
        "rows_imported",
        "created_at",
        "processing_time",
        "file_expired_at",
    ]
    list_filter = ["status"]
    search_fields = ["filename"]


@admin.register(LeadEvent, site=client_admin)
class LeadEventAdmin(ReadOnlyClientModelAdmin):
    list_display = ["created_at", "lead", "event_type", "actor"]
    list_filter = ["event_type"]
    search_fields = ["lead__phone_number", "lead__first_name", "lead__last_name"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(lead__in=leads_visible_to(request.user))


@admin.register(Suppression, site=client_admin)
class SuppressionAdmin(ReadOnlyClientModelAdmin):
    list_display = ["phone_number", "source", "reason", "created_at"]
    list_filter = ["source"]
    search_fields = ["phone_number", "reason"]


@admin.register(WebhookDelivery, site=client_admin)
class WebhookDeliveryAdmin(ReadOnlyClientModelAdmin):
    list_display = ["created_at", "event_type", "lead", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["event_id", "lead__phone_number", "lead__first_name", "lead__last_name"]

    def get_queryset(self, request):
        visible = leads_visible_to(request.user)
        return super().get_queryset(request).filter(Q(lead__isnull=True) | Q(lead__in=visible))
