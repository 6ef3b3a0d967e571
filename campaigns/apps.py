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

        from clients.queue import pending_work_register

        # What beat's sweeps look for (clients/queue.py): a text not yet processed, an outbox text or a
        # planned reply not yet settled.
        pending_work_register("inbound", "EXISTS (SELECT 1 FROM inbound_sms WHERE processed_at IS NULL)")
        pending_work_register(
            "outbox", "EXISTS (SELECT 1 FROM messages WHERE status IN ('pending', 'sending', 'unknown', 'scheduled'))"
        )
