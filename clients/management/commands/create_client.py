import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clients.services import client_create, public_tenant_ensure


class Command(BaseCommand):
    help = "Creates a client: its row, domain, schema, default campaign settings, templates and lessons."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Company name (unique)")
        parser.add_argument("--slug", required=True, help="Schema name and host label, e.g. greenstar")
        parser.add_argument("--domain", help="Host name; default <slug>.<DBR_BASE_DOMAIN>")
        parser.add_argument("--number", help="The client's Twilio number (E.164), registered to it")

    def handle(self, *args, name, slug, domain, number=None, **options):
        public_tenant_ensure()
        started = time.perf_counter()
        try:
            client = client_create(name=name, slug=slug, domain=domain, number=number)
        except ValidationError as exc:
            raise CommandError(
                "Client not created: " + " ".join(f"{m}" for ms in exc.message_dict.values() for m in ms)
            ) from None
        elapsed = time.perf_counter() - started
        domain = client.get_primary_domain().domain
        self.stdout.write(
            self.style.SUCCESS(f"Created client {client.company_name} ({client.slug}) at {domain} in {elapsed:.2f}s")
        )
        # Shown this once; Settings › Outbound events makes a new one.
        self.stdout.write(f"Outbound events signing secret: {client.n8n_webhook_secret}")
