from django.urls import include, path

from campaigns.views import bookings as booking_pages
from campaigns.views import inbox as inbox_pages
from campaigns.views import leads as lead_page
from campaigns.views import overview
from campaigns.views import settings as settings_pages
from campaigns.views import simulator as simulator_pages
from campaigns.webhooks import cal_webhook, sms_webhook, status_webhook
from clients import notification_pages
from clients import views as client_views
from clients.admin_sites import client_admin
from clients.api_token_pages import api_tokens_page
from dbr import views
from dbr.api import RedocView, SchemaView, SwaggerView, router
from leads import outbound_pages
from leads import views as lead_views
from sophie import gdpr_pages
from sophie import views as sophie_pages

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("", include("clients.urls_accounts")),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("datasets/", lead_views.dataset_list, name="datasets"),
    path("datasets/<uuid:pk>/", lead_views.dataset_detail, name="dataset_detail"),
    path("datasets/import/", lead_views.import_start, name="import_start"),
    path("imports/<uuid:pk>/", lead_views.import_detail, name="import_detail"),
    path("imports/<uuid:pk>/mapping/", lead_views.import_mapping, name="import_mapping"),
    path("imports/<uuid:pk>/preview/", lead_views.import_preview_view, name="import_preview"),
    path("imports/<uuid:pk>/run/", lead_views.import_run, name="import_run"),
    path("suppressions/", lead_views.suppression_list, name="suppressions"),
    path("suppressions/<uuid:pk>/delete/", lead_views.suppression_delete, name="suppression_delete"),
    path("leads/", lead_views.lead_list, name="leads"),
    path("leads/export/", lead_views.lead_export, name="lead_export"),
    path("leads/bulk/", lead_views.lead_bulk, name="lead_bulk"),
    path("leads/bulk/<str:job_id>/", lead_views.lead_bulk_job, name="lead_bulk_job"),
    path("leads/<uuid:pk>/", lead_page.lead_detail, name="lead_detail"),
    path("leads/<uuid:pk>/status/", lead_page.lead_status, name="lead_status"),
    path("leads/<uuid:pk>/manual-mode/", lead_page.lead_manual_mode, name="lead_manual_mode"),
    path("leads/<uuid:pk>/reply/", lead_page.lead_reply, name="lead_reply"),
    path("leads/<uuid:pk>/assign/", lead_page.lead_assign_view, name="lead_assign"),
    path("leads/<uuid:pk>/booked/", lead_page.lead_booked, name="lead_booked"),
    path("leads/<uuid:pk>/remove-and-suppress/", lead_page.lead_remove_suppress, name="lead_remove_suppress"),
    path("leads/<uuid:pk>/archive/", lead_page.lead_archive, name="lead_archive"),
    path("leads/<uuid:pk>/reply/count/", lead_page.lead_reply_count, name="lead_reply_count"),
    path("leads/<uuid:pk>/data/", gdpr_pages.lead_data, name="lead_data"),
    path("leads/<uuid:pk>/erase/", gdpr_pages.lead_erase_view, name="lead_erase"),
    path("leads/<uuid:pk>/test-booking/", booking_pages.lead_test_booking, name="lead_test_booking"),
    path("leads/<uuid:pk>/push/", outbound_pages.lead_push, name="lead_push"),
    path("leads/", include("sophie.urls")),
    path("notifications/", notification_pages.notification_list, name="notifications"),
    path("notifications/read-all/", notification_pages.notification_read_all, name="notification_read_all"),
    path("notifications/<uuid:pk>/open/", notification_pages.notification_open, name="notification_open"),
    path("inbox/", inbox_pages.inbox, name="inbox"),
    path("inbox/texts/<uuid:pk>/", inbox_pages.inbox_text, name="inbox_text"),
    path("inbox/texts/<uuid:pk>/attach/", inbox_pages.inbox_text_attach, name="inbox_text_attach"),
    path("inbox/texts/<uuid:pk>/lead/", inbox_pages.inbox_text_lead_create, name="inbox_text_lead_create"),
    path("campaigns/", include("campaigns.urls")),
    path("webhooks/twilio/status/", status_webhook, name="twilio_status"),
    path("webhooks/twilio/sms/", sms_webhook, name="twilio_sms"),
    path("webhooks/cal/", cal_webhook, name="cal_webhook"),
    path("b/<str:token>", booking_pages.booking_link, name="booking_link"),
    path("simulator/", simulator_pages.simulator_phones, name="simulator"),
    path("simulator/<uuid:pk>/", simulator_pages.simulator_phone, name="simulator_phone"),
    path("simulator/<uuid:pk>/reply/", simulator_pages.simulator_reply, name="simulator_reply"),
    path("settings/", settings_pages.settings_home, name="settings"),
    path("settings/users/", settings_pages.settings_users, name="settings_users"),
    path("settings/sophie/", sophie_pages.sophie_switch, name="sophie_switch"),
    path("settings/cal/secret/", settings_pages.settings_cal_secret, name="settings_cal_secret"),
    path("settings/outbound/url/", outbound_pages.outbound_url, name="outbound_url"),
    path("settings/outbound/secret/", outbound_pages.outbound_secret, name="outbound_secret"),
    path("settings/outbound/test/", outbound_pages.outbound_test, name="outbound_test"),
    path("settings/api-tokens/", api_tokens_page, name="settings_api_tokens"),
    path("settings/users/invite/", settings_pages.settings_user_invite, name="settings_user_invite"),
    path("settings/users/<uuid:pk>/", settings_pages.settings_user_edit, name="settings_user_edit"),
    path("settings/users/<uuid:pk>/suspend/", settings_pages.settings_user_suspend, name="settings_user_suspend"),
    path(
        "settings/users/<uuid:pk>/reactivate/", settings_pages.settings_user_reactivate, name="settings_user_reactivate"
    ),
    path("settings/company/", settings_pages.settings_company, name="settings_company"),
    path("settings/company/profile/", settings_pages.settings_profile, name="settings_profile"),
    path("settings/company/colour/", settings_pages.settings_brand_colour, name="settings_brand_colour"),
    path("settings/company/logo/", settings_pages.settings_logo, name="settings_logo"),
    path("settings/company/logo/remove/", settings_pages.settings_logo_remove, name="settings_logo_remove"),
    path("settings/company/timezone/", settings_pages.settings_timezone, name="settings_timezone"),
    path("settings/numbers/", settings_pages.settings_numbers, name="settings_numbers"),
    path("settings/numbers/add/", settings_pages.settings_number_add, name="settings_number_add"),
    path("settings/numbers/remove/", settings_pages.settings_number_remove, name="settings_number_remove"),
    path("settings/numbers/default/", settings_pages.settings_number_default, name="settings_number_default"),
    path("brand/logo/<int:version>.<str:extension>", client_views.brand_logo, name="brand_logo"),
    path("files/", include("leads.urls_files")),
    path("admin/", client_admin.urls),
    path("api/schema/", SchemaView.as_view(), name="api_schema"),
    path("api/docs/", SwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/redoc/", RedocView.as_view(url_name="api_schema"), name="api_redoc"),
    path("api/", include(router.urls)),
    path("sophie/prompts/", include("sophie.urls_prompts")),
    path("sophie/", include("sophie.urls_learning")),
]
