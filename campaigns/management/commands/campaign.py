from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from campaigns.management.commands._clock import parse_at
from campaigns.services import ACTIONS, CampaignRefused
from clients.management.lookup import client_by_slug
from leads.models import Dataset


class Command(BaseCommand):
    help = "Starts, pauses, resumes or completes a dataset's campaign (the same service as the dashboard)."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="Client slug")
        parser.add_argument("--dataset", required=True, help="Dataset name")
        parser.add_argument("action", choices=sorted(ACTIONS))
        parser.add_argument("--at", help="The instant of the action, ISO 8601 (default: now)")

    def handle(self, *args, client, dataset, action, at, **options):
        at = parse_at(at)
        target = client_by_slug(client)
        with schema_context(target.schema_name):
            found = Dataset.objects.filter(name=dataset).first()
            if found is None:
                raise CommandError(f"{target.company_name} has no dataset named {dataset!r}.")
            try:
                result = ACTIONS[action](dataset=found, at=at)
            except CampaignRefused as exc:
                for problem in exc.problems:
                    self.stderr.write(f"- {problem}")
                raise CommandError(f"The campaign could not {action}: {len(exc.problems)} problem(s) above.") from None
        self.stdout.write(
            self.style.SUCCESS(f"{result.name}: campaign {result.get_campaign_status_display().lower()}.")
        )
