"""The bell: a user's notifications, newest first, and marking them read."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from clients.models import Notification
from clients.notifications import notification_mark_read, notifications_mark_all_read

PAGE = 100


@login_required
def notification_list(request):
    rows = Notification.objects.filter(user=request.user, client=request.tenant)[:PAGE]
    return render(request, "clients/notifications.html", {"notifications": rows, "nav": "notifications"})


@login_required
@require_POST
def notification_open(request, pk):
    """Marks it read and goes to what it is about (only a path on this host)."""
    notification = get_object_or_404(Notification, pk=pk, user=request.user, client=request.tenant)
    notification_mark_read(notification=notification, at=timezone.now())
    safe = url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()})
    return redirect(notification.url if safe and notification.url.startswith("/") else "notifications")


@login_required
@require_POST
def notification_read_all(request):
    notifications_mark_all_read(user=request.user, at=timezone.now())
    return redirect("notifications")
