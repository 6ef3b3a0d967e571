from django.contrib import admin, messages
from django.db.models import Q
from django.utils import timezone
from django.utils.text import Truncator

from campaigns.inbound import inbound_reprocess
from campaigns.models import Conversation, InboundSms, Message, MessageStatusEvent
from campaigns.selectors import conversations_visible_to, messages_visible_to
from clients.admin_sites import ReadOnlyClientModelAdmin, client_admin
from leads.selectors import leads_visible_to


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    can_delete = False
    fields = ["created_at", "direction", "message_type", "status", "content"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation, site=client_admin)
class ConversationAdmin(ReadOnlyClientModelAdmin):
    list_display = ["lead", "dataset", "status", "message_count", "sentiment", "needs_review", "last_message_at"]
    list_filter = ["status", "needs_review", "sentiment"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__phone_number"]
    raw_id_fields = ["lead", "dataset"]
    inlines = [MessageInline]

    def get_queryset(self, request):
        return conversations_visible_to(request.user).select_related("lead", "dataset")


@admin.register(Message, site=client_admin)
class MessageAdmin(ReadOnlyClientModelAdmin):
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

    def get_queryset(self, request):
        return messages_visible_to(request.user).select_related("lead", "sent_by")


@admin.register(MessageStatusEvent, site=client_admin)
class MessageStatusEventAdmin(ReadOnlyClientModelAdmin):
    list_display = ["created_at", "twilio_sid", "status", "error_code"]
    list_filter = ["status"]
    search_fields = ["twilio_sid"]


@admin.register(InboundSms, site=client_admin)
class InboundSmsAdmin(ReadOnlyClientModelAdmin):
    list_display = ["received_at", "from_number", "to_number", "text", "outcome", "attempts", "processed_at", "lead"]
    list_filter = ["outcome"]
    search_fields = ["from_number", "to_number", "message_sid", "body"]
    date_hierarchy = "received_at"
    actions = ["reprocess"]

    def get_queryset(self, request):
        # Texts no lead has yet are every admin's to see; the rest follow the lead's visibility.
        visible = Q(lead__in=leads_visible_to(request.user)) | Q(lead=None)
        return InboundSms.objects.filter(visible).select_related("lead")

    @admin.display(description="Text")
    def text(self, inbound: InboundSms) -> str:
        return Truncator(inbound.body).chars(60) or ("(media only)" if inbound.media else "(empty)")

    def has_reprocess_permission(self, request) -> bool:
        return client_admin.has_permission(request)

    @admin.action(description="Re-process texts that could not be processed", permissions=["reprocess"])
    def reprocess(self, request, queryset) -> None:
        at, outcomes, skipped = timezone.now(), [], 0
        for inbound in queryset:
            done = inbound_reprocess(inbound=inbound, at=at)
            if done is None:
                skipped += 1
            else:
                outcomes.append(done.outcome or "failed again (the sweep retries)")
        if outcomes:
            summary = ", ".join(f"{outcomes.count(o)} {o}" for o in sorted(set(outcomes)))
            self.message_user(request, f"{len(outcomes)} text(s) re-processed: {summary}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} text(s) left as they were: only texts whose outcome is “error” can be re-processed.",
                messages.WARNING,
            )
