from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from campaigns.cadence import cadence_run_in_process
from campaigns.management.commands._clock import parse_at
from clients.management.lookup import client_by_slug
from clients.models import Client


class Command(BaseCommand):
    help = (
        "Runs one cadence tick (per client) with an injected clock, then in-process its lookups of unknown texts and "
        "every send it planned before the next tick, each at its planned slot; --queue-only writes the outbox only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--client", help="Client slug (default: every client running a campaign)")
        parser.add_argument("--at", help="The instant of the tick, ISO 8601 (default: now)")
        parser.add_argument("--queue-only", action="store_true", help="Write the outbox, send nothing")

    def handle(self, *args, client, at, queue_only, **options):
        real_time = not at  # on the real clock, each planned text waits for its slot
        at = parse_at(at)
        clients = Client.objects.exclude(schema_name="public").filter(schema_ready=True)
        if client:
            clients = [client_by_slug(client, schema_ready=True)]
        else:
            clients = clients.filter(has_active_campaign=True)
        for target in clients:
            with schema_context(target.schema_name):
                self._tick(target, at, queue_only, real_time)

    def _tick(self, client: Client, at, queue_only: bool, real_time: bool) -> None:
        run = cadence_run_in_process(at=at, send=not queue_only, real_time=real_time)
        result = run.tick
        if result.locked_out:
            self.stdout.write(f"{client.slug}: another tick is running; nothing done.")
            return
        outcomes = {**run.sent, **{f"reconcile: {what}": count for what, count in run.reconciled.items()}}
        sent = ", ".join(f"{count} {what}" for what, count in sorted(outcomes.items())) or "nothing sent"
        later = f" ({len(result.not_before)} spaced out by the rate limits)" if result.not_before else ""
        self.stdout.write(
            f"{client.slug} at {at.isoformat()}: {len(result.queued)} queued{later}; {sent}; "
            f"{len(result.completed)} campaign(s) completed."
        )
