"""The two admin sites (docs/architecture.md §2): public for platform staff, client for each client's admins."""

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login

from clients.access import belongs_here
from clients.roles import is_client_admin


class _SignInHere(admin.AdminSite):
    def login(self, request, extra_context=None):
        # One login page per host, styled as the product.
        return redirect_to_login(request.get_full_path(), "/login/")


class PublicAdminSite(_SignInHere):
    site_header = "DBR platform"
    site_title = "DBR platform admin"
    index_title = "Clients, domains and users"

    def has_permission(self, request) -> bool:
        user = request.user
        return request.tenant.is_public and user.is_active and user.is_staff and user.client_id is None


class ClientAdminSite(_SignInHere):
    index_title = "Data"

    def has_permission(self, request) -> bool:
        user = request.user
        return (
            not request.tenant.is_public
            and user.is_authenticated
            and is_client_admin(user)
            and belongs_here(user, request.tenant)
        )

    def each_context(self, request):
        context = super().each_context(request)
        tenant = getattr(request, "tenant", None)
        if tenant is not None and not tenant.is_public:
            context["site_header"] = f"{tenant.company_name} · DBR admin"
        return context


public_admin = PublicAdminSite(name="public_admin")
client_admin = ClientAdminSite(name="client_admin")


class ClientModelAdmin(admin.ModelAdmin):
    """Client admins may do everything the admin offers on their own client's data."""

    list_per_page = 50

    def has_module_permission(self, request) -> bool:
        return client_admin.has_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return client_admin.has_permission(request)

    def has_add_permission(self, request) -> bool:
        return client_admin.has_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return client_admin.has_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return client_admin.has_permission(request)


class ReadOnlyClientModelAdmin(ClientModelAdmin):
    """Records and settings with rules of their own: visible here, changed only through the
    dashboard's services, so nothing bypasses their checks (docs/security.md §1)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
