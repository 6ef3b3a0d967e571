from django.urls import path

from campaigns.views import campaigns as views

urlpatterns = [
    path("", views.campaign_list, name="campaigns"),
    path("<uuid:pk>/", views.campaign_detail, name="campaign_detail"),
    path("<uuid:pk>/preview/", views.campaign_preview, name="campaign_preview"),
    path("<uuid:pk>/template/", views.campaign_template_apply, name="campaign_template_apply"),
    path("<uuid:pk>/test-send/", views.campaign_test_send_view, name="campaign_test_send"),
    *(
        path(f"<uuid:pk>/{action}/", views.campaign_lifecycle, {"action": action}, name=f"campaign_{action}")
        for action in ("start", "pause", "resume", "complete")
    ),
]
