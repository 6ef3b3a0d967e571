from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from campaigns.selectors import messages_visible_to
from clients.admin_sites import ClientModelAdmin, ReadOnlyClientModelAdmin, client_admin
from clients.roles import Action, can
from sophie.insights.review import InsightRefused, insight_approve, insight_dismiss, insights_visible_to
from sophie.lessons import EDITABLE, LessonRefused, lesson_archive, lesson_clean, lesson_create, lesson_update
from sophie.models import AiReply, Insight, Lesson, Prompt, PromptTemplate, PromptTrial, PromptVersion
from sophie.prompts import PromptRefused, prompt_go_live, prompt_rollback


class LessonAdminForm(forms.ModelForm):
    """The service's rules decide what a lesson may hold; the admin shows its refusal on the form."""

    class Meta:
        model = Lesson
        fields = list(EDITABLE)

    def clean(self):
        data = super().clean()
        try:
            lesson_clean({name: data.get(name) for name in EDITABLE})
        except LessonRefused as refused:
            raise forms.ValidationError(str(refused)) from None
        return data


@admin.register(Lesson, site=client_admin)
class LessonAdmin(ClientModelAdmin):
    """Writes go through sophie/lessons.py; lessons are archived, never deleted (past replies list them)."""

    form = LessonAdminForm
    list_display = ["title", "lesson_type", "status", "priority", "source", "times_applied", "success_rate"]
    list_filter = ["lesson_type", "status", "source"]
    search_fields = ["title", "description", "trigger"]
    readonly_fields = ["times_applied", "success_rate", "source", "source_message", "created_by"]
    actions = ["archive"]

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and can(request.user, Action.EDIT_LESSONS)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and can(request.user, Action.EDIT_LESSONS)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        fields = {name: form.cleaned_data.get(name) for name in EDITABLE}
        if change:
            saved = lesson_update(lesson=obj, actor=request.user, fields=fields)
        else:
            saved = lesson_create(actor=request.user, fields=fields)
        obj.pk, obj._state.adding = saved.pk, False

    @admin.action(description="Archive (Sophie stops using them)")
    def archive(self, request, queryset) -> None:
        done = 0
        for lesson in queryset:
            try:
                lesson_archive(lesson=lesson, actor=request.user)
                done += 1
            except LessonRefused:
                pass  # already archived
        self.message_user(request, f"{done} lesson{'s' if done != 1 else ''} archived.", messages.SUCCESS)


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
class InsightAdmin(ReadOnlyClientModelAdmin):
    """The review queue's records: made by the checks, closed by the two actions (the same services as the
    Insights page); teaching Sophie needs her text, so it is on the page."""

    list_display = ["title", "insight_type", "severity", "category", "status", "reviewed_by", "created_at"]
    list_filter = ["insight_type", "severity", "category", "status"]
    search_fields = ["title", "description"]
    raw_id_fields = ["message", "conversation", "dataset", "related_lesson", "reviewed_by"]
    actions = ["approve_and_learn", "dismiss"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=insights_visible_to(request.user).values("pk"))

    def has_edit_lessons_permission(self, request) -> bool:
        return client_admin.has_permission(request) and can(request.user, Action.EDIT_LESSONS)

    @admin.action(description="Approve and learn (a lesson from each)", permissions=["edit_lessons"])
    def approve_and_learn(self, request, queryset) -> None:
        self._each(request, queryset, insight_approve, "approved; each is now a lesson")

    @admin.action(description="Dismiss", permissions=["edit_lessons"])
    def dismiss(self, request, queryset) -> None:
        self._each(request, queryset, insight_dismiss, "dismissed")

    def _each(self, request, queryset, service, done: str) -> None:
        count, refused = 0, []
        for insight in queryset:
            try:
                service(insight=insight, actor=request.user, at=timezone.now())
                count += 1
            except InsightRefused as reason:
                refused.append(f"{insight.title}: {reason}")
        if count:
            self.message_user(request, f"{count} insight{'s' if count != 1 else ''} {done}.", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.WARNING)


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
