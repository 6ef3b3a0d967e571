from django.core.exceptions import PermissionDenied
from django_tenants.middleware.main import TenantMainMiddleware


class TenantMiddleware(TenantMainMiddleware):
    """django-tenants' host → schema middleware, with a proper page for unknown hosts."""

    def no_tenant_found(self, request, hostname):
        from dbr.views import unknown_host

        return unknown_host(request, hostname)


class ClientAccessMiddleware:
    """Refuses a signed-in user of another client on this client's host (staff excepted)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        user = request.user
        if tenant is not None and not tenant.is_public and user.is_authenticated and not user.is_staff:
            if user.client_id != tenant.id:
                raise PermissionDenied("You are signed in to another client's account.")
        return self.get_response(request)
