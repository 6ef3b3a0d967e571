from django.contrib import admin

from campaigns.models import Conversation, Message, MessageStatusEvent
from campaigns.selectors import conversations_visible_to, messages_visible_to
from clients.admin_sites import ClientModelAdmin, ReadOnlyClientModelAdmin, client_admin


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ["created_at", "direction", "message_type", "status", "content"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation, site=client_admin)
class ConversationAdmin(ClientModelAdmin):
    list_display = ["lead", "dataset", "status", "message_count", "sentiment", "needs_review", "last_message_at"]
    list_filter = ["status", "needs_review", "sentiment"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__phone_number"]
    raw_id_fields = ["lead", "dataset"]
    inlines = [MessageInline]

    def get_queryset(self, request):
        return conversations_visible_to(request.user).select_related("lead", "dataset")


@admin.register(Message, site=client_admin)
class MessageAdmin(ClientModelAdmin):
    list_display = [
        "created_at",
        "lead",
        "direction",
        "message_type",
        "status",
        "twilio_sid",
        "sent_at",
        "ai_generated",
        "sent_by",
    ]
    list_filter = ["direction", "message_type", "status", "ai_generated", "ai_feedback_status"]
    search_fields = ["content", "twilio_sid", "to_number", "from_number"]
    raw_id_fields = ["conversation", "lead"]
    readonly_fields = ["sent_by"]  # a fact about the text; a select would also list every client's users

    def get_queryset(self, request):
        return messages_visible_to(request.user).select_related("lead", "sent_by")


@admin.register(MessageStatusEvent, site=client_admin)
class MessageStatusEventAdmin(ReadOnlyClientModelAdmin):
    list_display = ["created_at", "twilio_sid", "status", "error_code"]
    list_filter = ["status"]
    search_fields = ["twilio_sid"]
