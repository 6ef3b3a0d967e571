"""The lead page's GDPR actions (docs/security.md §5): client admins only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.roles import is_client_admin
from leads.selectors import lead_for
from sophie.gdpr import lead_data_export, lead_erase


def _admin_only(request) -> None:
    if not is_client_admin(request.user):
        raise PermissionDenied("Only the client's administrators may export or erase a person's data.")


@login_required
def lead_data(request, pk):
    _admin_only(request)
    lead = lead_for(request.user, pk)
    response = HttpResponse(lead_data_export(phone_number=lead.phone_number), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="lead-data-{lead.pk}.json"'
    return response


@login_required
@require_POST
def lead_erase_view(request, pk):
    _admin_only(request)
    lead = lead_for(request.user, pk)
    lead_erase(lead=lead, actor=request.user, at=timezone.now())
    messages.success(request, "The lead's personal data is erased; the number stays on the suppression list.")
    return redirect("lead_detail", pk=lead.pk)
