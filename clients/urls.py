from django.urls import path

from clients import views

app_name = "files"
urlpatterns = [
    path("<str:bucket>/<path:path>", views.download, name="download"),
]
