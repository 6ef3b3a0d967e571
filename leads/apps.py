from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"

    def ready(self) -> None:
        from django_tenants.signals import post_schema_sync

        from leads.services import seed_client_defaults

        post_schema_sync.connect(seed_client_defaults, dispatch_uid="leads.seed_client_defaults")
