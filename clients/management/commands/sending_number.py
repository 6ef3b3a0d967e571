from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clients.management.lookup import client_by_slug
from clients.numbers import sending_number_add, sending_number_remove


class Command(BaseCommand):
    help = "Registers a Twilio number to a client, or removes it (a number belongs to one client only)."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="Client slug")
        parser.add_argument("action", choices=["add", "remove"])
        parser.add_argument("number", help="E.164, e.g. +447700900123")

    def handle(self, *args, client, action, number, **options):
        target = client_by_slug(client)
        try:
            if action == "add":
                sending_number_add(client=target, number=number)
            else:
                sending_number_remove(client=target, number=number)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        done = "registered to" if action == "add" else "removed from"
        self.stdout.write(self.style.SUCCESS(f"{number} {done} {target.company_name}."))
