"""The one API router: each app lists its own routes in its `api` module (ROUTES); and the API's documents.

The OpenAPI schema, Swagger UI and Redoc are for the client's own members (a session or a token), never
public; the two UIs' files come from drf-spectacular-sidecar, not a CDN.
"""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import exceptions
from rest_framework.routers import DefaultRouter

from campaigns import api as campaigns_api
from clients import api as clients_api
from leads import api as leads_api
from sophie import api as sophie_api

APPS_WITH_API = (leads_api, campaigns_api, clients_api, sophie_api)


def build_router() -> DefaultRouter:
    router = DefaultRouter()
    router.include_root_view = False
    for module in APPS_WITH_API:
        for prefix, viewset, basename in module.ROUTES:
            router.register(prefix, viewset, basename=basename)
    return router


router = build_router()


# The two UIs load only our own files (the sidecar's, and the schema): anything else they would
# fetch (Redoc's logo on redoc.ly) is blocked by the browser.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


class _SignInFirst:
    """A browser that is not signed in is sent to the sign-in page rather than shown a JSON error."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Security-Policy"] = DOCS_CSP
        return response

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) and not (
            self.request.headers.get("Authorization")
        ):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class SchemaView(SpectacularAPIView):
    pass


class SwaggerView(_SignInFirst, SpectacularSwaggerView):
    pass


class RedocView(_SignInFirst, SpectacularRedocView):
    pass
