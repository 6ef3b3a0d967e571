from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from clients.models import Client
from sophie.services import system_templates_sync


class Command(BaseCommand):
    help = "Creates or updates the system prompt templates (sophie/defaults.py) in every ready client schema."

    def handle(self, *args, **options):
        clients = Client.objects.exclude(schema_name="public").filter(schema_ready=True).order_by("slug")
        for client in clients:
            with schema_context(client.schema_name):
                count = system_templates_sync()
            self.stdout.write(f"{client.slug}: {count} system templates synced")
        self.stdout.write(self.style.SUCCESS(f"Done: {len(clients)} clients."))
