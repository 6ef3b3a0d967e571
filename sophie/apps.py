from django.apps import AppConfig


class SophieConfig(AppConfig):
    name = "sophie"

    def ready(self) -> None:
        from django.core import checks
        from django_tenants.signals import post_schema_sync

        from campaigns.signals import inbound_processed
        from sophie.checks import llm_backend_check
        from sophie.receivers import reply_processed
        from sophie.services import seed_client_defaults

        post_schema_sync.connect(seed_client_defaults, dispatch_uid="sophie.seed_client_defaults")
        inbound_processed.connect(reply_processed, dispatch_uid="sophie.reply_processed")
        checks.register(llm_backend_check)
