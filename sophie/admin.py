from django.contrib import admin, messages
from django.utils import timezone

from campaigns.selectors import messages_visible_to
from clients.admin_sites import ClientModelAdmin, ReadOnlyClientModelAdmin, client_admin
from clients.roles import Action, can
from sophie.models import AiReply, Insight, Lesson, Prompt, PromptTemplate, PromptTrial, PromptVersion
from sophie.prompts import PromptRefused, prompt_go_live, prompt_rollback


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
    fields = ["version", "version_number", "changes_summary", "created_by_type", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Prompt, site=client_admin)
class PromptAdmin(ClientModelAdmin):
    """Rows are versions and never edited here (docs/prompts.md): the two actions call the services."""

    list_display = ["name", "version", "status", "is_live", "dataset", "deployed_at"]
    list_filter = ["status", "is_live", "created_from"]
    search_fields = ["name", "description", "compiled_prompt"]
    inlines = [PromptVersionInline]
    actions = ["make_live", "roll_back"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_edit_prompts_permission(self, request) -> bool:
        return client_admin.has_permission(request) and can(request.user, Action.EDIT_PROMPTS)

    @admin.action(description="Make live", permissions=["edit_prompts"])
    def make_live(self, request, queryset) -> None:
        self._each(request, queryset, lambda prompt, at: prompt_go_live(prompt=prompt, actor=request.user, at=at))

    @admin.action(description="Roll back to this version", permissions=["edit_prompts"])
    def roll_back(self, request, queryset) -> None:
        self._each(request, queryset, lambda prompt, at: prompt_rollback(to=prompt, actor=request.user, at=at))

    def _each(self, request, queryset, change) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one version.", messages.WARNING)
            return
        try:
            prompt = change(queryset.get(), timezone.now())
        except PromptRefused as refused:
            self.message_user(request, str(refused), messages.WARNING)
            return
        where = prompt.dataset.name if prompt.dataset_id else "the client default"
        self.message_user(request, f"{prompt.name} v{prompt.version} is now live for {where}.", messages.SUCCESS)


@admin.register(PromptVersion, site=client_admin)
class PromptVersionAdmin(ReadOnlyClientModelAdmin):
    list_display = ["prompt", "version", "changes_summary", "created_by_type", "created_at"]
    list_filter = ["created_by_type"]
    search_fields = ["changes_summary"]


@admin.register(Insight, site=client_admin)
class InsightAdmin(ClientModelAdmin):
    list_display = ["title", "insight_type", "severity", "category", "status", "created_at"]
    list_filter = ["insight_type", "severity", "category", "status"]
    search_fields = ["title", "description"]
    raw_id_fields = ["message", "conversation", "dataset", "related_lesson", "reviewed_by"]


@admin.register(AiReply, site=client_admin)
class AiReplyAdmin(ReadOnlyClientModelAdmin):
    """How each AI message was written: a record, so it is read-only."""

    list_display = ["written_at", "message", "action", "backend", "model", "regenerated", "reason"]
    list_filter = ["action", "backend", "regenerated"]
    search_fields = ["reason", "original_text"]
    raw_id_fields = ["message", "prompt", "edited_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(message__in=messages_visible_to(request.user))


@admin.register(PromptTrial, site=client_admin)
class PromptTrialAdmin(ReadOnlyClientModelAdmin):
    """Trials are started, stopped and made live on the prompt page (sophie/trials.py): read-only here."""

    list_display = ["dataset", "candidate", "control", "share_percent", "status", "started_at", "ended_at"]
    list_filter = ["status"]
    raw_id_fields = ["dataset", "candidate", "control", "started_by", "ended_by"]
