from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware

from clients.access import belongs_here, client_url


class TenantMiddleware(TenantMainMiddleware):
    """django-tenants' host → schema middleware, with a proper page for unknown hosts."""

    def no_tenant_found(self, request, hostname):
        from dbr.views import unknown_host

        return unknown_host(request, hostname)


class ClientAccessMiddleware:
    """The one place a signed-in user of another client is refused on this client's host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        user = request.user
        if tenant is not None and not tenant.is_public and user.is_authenticated and not belongs_here(user, tenant):
            home = client_url(user.client) if user.client_id else None
            return render(request, "errors/wrong_client.html", {"home": home}, status=403)
        return self.get_response(request)
