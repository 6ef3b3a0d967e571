"""The one API router: each app lists its own routes in its `api` module (ROUTES)."""

from rest_framework.routers import DefaultRouter

from leads import api as leads_api
from sophie import api as sophie_api

APPS_WITH_API = (leads_api, sophie_api)


def build_router() -> DefaultRouter:
    router = DefaultRouter()
    for module in APPS_WITH_API:
        for prefix, viewset, basename in module.ROUTES:
            router.register(prefix, viewset, basename=basename)
    return router


router = build_router()
