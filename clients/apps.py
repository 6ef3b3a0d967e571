from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.core import checks

        from clients.checks import base_domain_check, storage_check
        from clients.services import user_login_record

        user_logged_in.connect(user_login_record, dispatch_uid="clients.user_login_record")
        checks.register(storage_check)
        checks.register(base_domain_check)
