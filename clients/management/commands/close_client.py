from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clients.management.lookup import client_by_slug
from clients.services import client_close, client_schema_drop


class Command(BaseCommand):
    help = "Closes a client (status cancelled, users suspended); --drop-schema also deletes all its data."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--drop-schema", action="store_true", help="Delete the client's schema and domains")
        parser.add_argument("--yes", action="store_true", help="Confirm --drop-schema (it cannot be undone)")

    def handle(self, *args, slug, drop_schema, yes, **options):
        client = client_by_slug(slug)
        client_close(client=client)
        self.stdout.write(f"Closed {client.company_name}: campaigns stopped, users suspended.")
        if drop_schema:
            if not yes:
                raise CommandError("Dropping a schema deletes all the client's data: add --yes to confirm.")
            try:
                client_schema_drop(client=client)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            self.stdout.write(f"Dropped schema {client.schema_name!r} and its domains.")
