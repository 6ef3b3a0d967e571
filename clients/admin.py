from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm

from clients.admin_sites import public_admin
from clients.models import ApiToken, Client, Domain, User


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


class NoDeleteAdmin(admin.ModelAdmin):
    """Clients are closed by status and users suspended; never deleted here (docs/architecture.md §2)."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(Client, site=public_admin)
class ClientAdmin(NoDeleteAdmin):
    list_display = [
        "company_name",
        "slug",
        "status",
        "plan",
        "industry",
        "has_active_campaign",
        "schema_ready",
        "cadence_ran_at",
        "created_at",
    ]
    list_filter = ["status", "plan", "industry", "has_active_campaign"]
    search_fields = ["company_name", "slug", "company_email"]
    readonly_fields = [
        "slug",
        "schema_name",
        "schema_ready",
        "has_active_campaign",
        "cadence_ran_at",
        "cadence_error",
        "created_at",
        "updated_at",
    ]
    exclude = ["n8n_webhook_secret"]  # shown to the client's owners once, never here
    inlines = [DomainInline]

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(schema_name="public")

    def has_add_permission(self, request) -> bool:
        return False  # created by `create_client`, which provisions the schema


@admin.register(Domain, site=public_admin)
class DomainAdmin(NoDeleteAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain", "tenant__company_name"]


class UserCreateForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ["email", "client", "role"]


@admin.register(User, site=public_admin)
class UserAdmin(NoDeleteAdmin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "client", "role", "status", "is_staff", "last_login_at"]
    list_filter = ["status", "role", "is_staff", "client"]
    search_fields = ["email", "first_name", "last_name", "client__company_name"]
    readonly_fields = ["last_login", "last_login_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "phone", "avatar_url"]}),
        (
            "Access",
            {
                "fields": [
                    "client",
                    "role",
                    "status",
                    "can_view_all_leads",
                    "can_edit_lessons",
                    "can_push_to_n8n",
                    "can_manage_users",
                    "allowed_dataset_ids",
                ]
            },
        ),
        ("Platform", {"fields": ["is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "last_login_at", "created_at", "updated_at"]}),
    ]
    add_form = UserCreateForm
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "client", "role", "password1", "password2"]})]


@admin.register(ApiToken, site=public_admin)
class ApiTokenAdmin(admin.ModelAdmin):
    """Made and shown once in Settings › API tokens; here platform staff can only see and revoke them."""

    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["user__email", "name", "prefix"]
    readonly_fields = ["user", "name", "prefix", "key_hash", "created_at", "last_used_at"]
    fields = ["user", "name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request) -> bool:
        return False
