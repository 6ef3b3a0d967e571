from django.urls import path

from sophie import views

urlpatterns = [
    path("<uuid:pk>/planned/<uuid:message_pk>/cancel/", views.planned_reply_cancel, name="planned_reply_cancel"),
    path("<uuid:pk>/planned/<uuid:message_pk>/send-now/", views.planned_reply_send_now, name="planned_reply_send_now"),
    path("<uuid:pk>/drafts/<uuid:message_pk>/send/", views.draft_send, name="draft_send"),
    path("<uuid:pk>/drafts/<uuid:message_pk>/discard/", views.draft_discard, name="draft_discard"),
    path("<uuid:pk>/handoff/clear/", views.handoff_clear, name="handoff_clear"),
]
