from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_tenants.utils import schema_context

from clients.management.lookup import client_by_slug
from clients.models import User
from sophie.gdpr import lead_data_export, lead_erase


class Command(BaseCommand):
    help = "A lead's GDPR rights: `export` their data as JSON, or `erase` every lead with the number."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="Client slug")
        parser.add_argument("--number", required=True, help="The person's number, E.164")
        parser.add_argument("action", choices=["export", "erase"])
        parser.add_argument("--by", help="E-mail of the staff member acting (recorded on the erasure event)")
        parser.add_argument("--out", help="export: write the JSON here instead of standard output")

    def handle(self, *args, client, number, action, by, out, **options):
        target = client_by_slug(client, schema_ready=True)
        actor = User.objects.filter(email__iexact=by).first() if by else None
        if by and actor is None:
            raise CommandError(f"No user with the e-mail {by!r}.")
        with schema_context(target.schema_name):
            if action == "export":
                data = lead_data_export(phone_number=number)
                if out:
                    Path(out).write_text(data)
                    self.stdout.write(f"Wrote {out}.")
                else:
                    self.stdout.write(data)
                return
            done = lead_erase(phone_number=number, actor=actor, at=timezone.now())
        summary = ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in done.items())
        self.stdout.write(self.style.SUCCESS(f"Erased {number}: {summary}. The number stays suppressed."))
