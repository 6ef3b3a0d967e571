from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from django.core import checks

        from campaigns.checks import sms_backend_check

        checks.register(sms_backend_check)
