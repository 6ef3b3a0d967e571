import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from devtools.demo.seed import demo_seed


class Command(BaseCommand):
    help = "Creates the demo client Greenstar Solar with users, leads, a paused campaign and Sophie's data. Idempotent."

    def handle(self, *args, **options):
        started = time.perf_counter()
        result = demo_seed(now=timezone.now())
        elapsed = time.perf_counter() - started
        if result.created:
            made = ", ".join(f"{count} {name}" for name, count in result.created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo seeded in {elapsed:.1f}s: {made}."))
        else:
            self.stdout.write("The demo client and its data already exist; nothing changed.")
        self.stdout.write(f"Open {result.url}")
        for role, email, password in result.logins:
            self.stdout.write(f"  {role}: {email} / {password}")
