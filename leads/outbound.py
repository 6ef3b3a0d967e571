"""Outbound events to the client's webhook URL (n8n or any URL): recorded by `leads.happenings`, delivered and
retried by a worker. Until the delivery side exists, recording is a no-op."""

from datetime import datetime

from leads.models import Lead


def outbound_event_record(*, lead: Lead, kind: str, at: datetime, data: dict) -> None:
    return None
