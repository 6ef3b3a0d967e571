from rest_framework.permissions import BasePermission

from clients.access import belongs_here


class IsMemberOfThisClient(BasePermission):
    """DRF's default: the same check as ClientAccessMiddleware, after token authentication."""

    message = "This account does not belong to this client."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and belongs_here(request.user, request.tenant))
