from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from clients.management.lookup import client_by_slug
from clients.models import User
from clients.services import user_create


class Command(BaseCommand):
    help = "Creates a user of a client (--client SLUG) or a platform staff user (--staff)."

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--client", help="Client slug")
        who.add_argument("--staff", action="store_true", help="Platform staff (no client)")
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", default=User.Role.SALES_REP, choices=User.Role.values)
        parser.add_argument("--password", help="Without it the user cannot log in until a reset or invite")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args, client, staff, email, role, password, first_name, last_name, **options):
        target = None
        if client:
            target = client_by_slug(client)
        try:
            user = user_create(
                email=email,
                client=target,
                role=role,
                password=password,
                staff=staff,
                first_name=first_name,
                last_name=last_name,
            )
        except ValidationError as exc:
            raise CommandError("User not created: " + " ".join(exc.messages)) from None
        where = "platform staff" if staff else f"{target.company_name} as {user.get_role_display()}"
        self.stdout.write(self.style.SUCCESS(f"Created {user.email} ({where})"))
