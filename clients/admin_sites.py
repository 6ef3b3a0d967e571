"""The two admin sites (docs/architecture.md §2): public for platform staff, client for each client's admins."""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from clients.access import belongs_here
from clients.roles import is_client_admin


class _SignInHere(admin.AdminSite):
    def login(self, request, extra_context=None):
        # One login page per host, styled as the product. It must send the user on to where the
        # admin wanted them (never back here), and a signed-in user without access gets a page,
        # not a redirect: the login page would send them straight back (a loop).
        target = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = ""
        target = target or reverse(f"{self.name}:index")
        if self.has_permission(request):
            return redirect(target)
        if request.user.is_authenticated:
            return render(request, "errors/admin_not_allowed.html", {"site": self}, status=403)
        return redirect_to_login(target, "/login/")


class PublicAdminSite(_SignInHere):
    site_header = "DBR platform"
    site_title = "DBR platform admin"
    index_title = "Clients, domains and users"

    def has_permission(self, request) -> bool:
        user = request.user
        return request.tenant.is_public and user.is_active and user.is_staff and user.client_id is None


class ClientAdminSite(_SignInHere):
    site_header = "DBR admin"
    site_title = "DBR admin"
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
            context["site_header"] = context["site_title"] = f"{tenant.company_name} · DBR admin"
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
