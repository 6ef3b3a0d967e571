from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import schema_context

from campaigns.inbound import inbound_process_pending
from clients.management.lookup import client_by_slug
from clients.models import Client


class Command(BaseCommand):
    help = "Processes every stored inbound text not yet processed, in-process (the sweep's code; no worker needed)."

    def add_arguments(self, parser):
        parser.add_argument("--client", help="Client slug (default: every client)")

    def handle(self, *args, client, **options):
        if client:
            clients = [client_by_slug(client, schema_ready=True)]
        else:
            clients = Client.objects.exclude(schema_name="public").filter(schema_ready=True).order_by("slug")
        for target in clients:
            with schema_context(target.schema_name):
                done = _all_pending()
            self.stdout.write(f"{target.slug}: {done} inbound text(s) processed.")


def _all_pending() -> int:
    total = 0
    while done := inbound_process_pending(at=timezone.now()):
        total += done
    return total
