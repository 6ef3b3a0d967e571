"""The views that belong to no client: health, an unknown host, the public host's home."""

import time

from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from dbr import health


@never_cache
def healthz(request):
    body = health.report(time.time())
    return JsonResponse(body, status=200 if body["ok"] else 503)


def unknown_host(request, hostname: str):
    # Rendered in the public schema with no tenant data at all.
    return render(request, "errors/unknown_host.html", {"hostname": hostname}, status=404)


def public_home(request):
    return redirect("/admin/")


def favicon(request):
    # Pages name the icon; this is for the admin's pages and browsers that ask for /favicon.ico anyway.
    return redirect(static("favicon.svg"))
