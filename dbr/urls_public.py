from django.urls import include, path

from clients.admin_sites import public_admin
from dbr import views

urlpatterns = [
    path("", views.public_home, name="public_home"),
    path("", include("clients.urls_accounts")),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("admin/", public_admin.urls),
]
