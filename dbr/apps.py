from django.apps import AppConfig


class DbrConfig(AppConfig):
    name = "dbr"
    verbose_name = "DBR"
