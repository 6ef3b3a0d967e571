from django.urls import path

from leads import files

app_name = "files"
urlpatterns = [
    path("<str:bucket>/<path:path>", files.download, name="download"),
]
