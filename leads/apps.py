from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        from django_tenants.signals import post_schema_sync

        from leads.services import seed_client_defaults

        post_schema_sync.connect(seed_client_defaults, dispatch_uid="leads.seed_client_defaults")

        from clients.queue import pending_work_register

        # What beat's sweeps look for (clients/queue.py): an import in progress, an outbound event not yet delivered.
        pending_work_register("imports", "EXISTS (SELECT 1 FROM uploads WHERE status = 'processing')")
        pending_work_register("webhooks", "EXISTS (SELECT 1 FROM webhook_deliveries WHERE status = 'pending')")
