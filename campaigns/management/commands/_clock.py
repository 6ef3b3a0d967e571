from datetime import UTC, datetime

from django.core.management.base import CommandError
from django.utils import timezone


def parse_at(raw: str | None) -> datetime:
    """The injected clock: an ISO 8601 instant (a naive one is UTC), or now."""
    if not raw:
        return timezone.now()
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--at must be an ISO 8601 instant like 2026-11-25T10:00:00Z, not {raw!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
