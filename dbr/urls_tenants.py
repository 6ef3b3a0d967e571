from django.urls import include, path

from dbr import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("files/", include("clients.urls")),
]
