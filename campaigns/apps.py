from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from django.core import checks

        from campaigns.checks import sms_backend_check

        checks.register(sms_backend_check)

        from campaigns.suppression import leads_remove_and_suppress
        from clients.roles import Action
        from leads.bulk import BulkAction, bulk_action_register

        bulk_action_register(
            BulkAction(
                "remove_and_suppress",
                "Remove and suppress",
                Action.MANAGE_SUPPRESSIONS,
                leads_remove_and_suppress,
                warning="Their numbers join the suppression list and every text queued for them is cancelled.",
            )
        )
