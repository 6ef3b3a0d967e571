from django.contrib import admin

from campaigns.selectors import messages_visible_to
from clients.admin_sites import ClientModelAdmin, ReadOnlyClientModelAdmin, client_admin
from sophie.models import AiReply, Insight, Lesson, Prompt, PromptTemplate, PromptVersion


@admin.register(Lesson, site=client_admin)
class LessonAdmin(ClientModelAdmin):
    list_display = ["title", "lesson_type", "status", "priority", "source", "times_applied", "updated_at"]
    list_filter = ["lesson_type", "status", "source"]
    search_fields = ["title", "description", "trigger"]


@admin.register(PromptTemplate, site=client_admin)
class PromptTemplateAdmin(ClientModelAdmin):
    list_display = ["name", "category", "industry", "is_system_template", "is_active", "times_used"]
    list_filter = ["category", "is_system_template", "is_active"]
    search_fields = ["name", "description"]


class PromptVersionInline(admin.TabularInline):
    model = PromptVersion
    extra = 0
    fields = ["version", "version_number", "changes_summary", "created_by_type", "created_at"]
    readonly_fields = fields


@admin.register(Prompt, site=client_admin)
class PromptAdmin(ClientModelAdmin):
    list_display = ["name", "version", "status", "is_live", "dataset", "deployed_at"]
    list_filter = ["status", "is_live", "created_from"]
    search_fields = ["name", "description", "compiled_prompt"]
    raw_id_fields = ["dataset", "template", "copied_from_prompt", "previous_version", "deployed_by"]
    inlines = [PromptVersionInline]


@admin.register(Insight, site=client_admin)
class InsightAdmin(ClientModelAdmin):
    list_display = ["title", "insight_type", "severity", "category", "status", "created_at"]
    list_filter = ["insight_type", "severity", "category", "status"]
    search_fields = ["title", "description"]
    raw_id_fields = ["message", "conversation", "dataset", "related_lesson", "reviewed_by"]


@admin.register(AiReply, site=client_admin)
class AiReplyAdmin(ReadOnlyClientModelAdmin):
    list_display = ["written_at", "message", "action", "backend", "model", "regenerated"]
    list_filter = ["action", "backend"]
    raw_id_fields = ["message", "prompt", "edited_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(message__in=messages_visible_to(request.user))
