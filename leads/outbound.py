"""Outbound events to the client's webhook URL (n8n or any URL), docs/outbound_events.md.

Recording (`outbound_event_record`, from `leads.happenings`) writes one `WebhookDelivery` in the caller's
transaction and queues its delivery after commit; nothing more happens in the caller's request, so a slow or
failing endpoint never slows a reply. Delivery (`webhook_delivery_attempt`, in a worker) POSTs the stored body
once, signed, with a 5 s timeout and no redirects followed; a failure is retried on BACKOFF, then the event is
marked failed. Each lead's events go in the order they happened: one waits while an older one is pending.
"""

import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet

from clients.models import Client, new_event_secret, validate_webhook_url
from clients.queue import enqueue
from leads.models import Lead, WebhookDelivery

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
# The wait after each failed attempt: 8 attempts over about 22 hours, then failed.
BACKOFF = [
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
]
MAX_ATTEMPTS = len(BACKOFF) + 1
LEASE = timedelta(seconds=60)  # longer than one POST; a worker that dies mid-call frees the row then
TEST_EVENT = "test.ping"
Status = WebhookDelivery.Status


# --- the endpoint and its secret (client settings) ---


def outbound_url_set(*, client: Client, url: str) -> Client:
    """Sets (or, empty, clears) where outbound events go; only http(s) URLs."""
    url = (url or "").strip()
    if url:
        try:
            validate_webhook_url(url)
        except ValidationError as exc:
            raise ValidationError({"n8n_webhook_url": exc.messages}) from exc
    client.n8n_webhook_url = url or None
    Client.objects.filter(pk=client.pk).update(n8n_webhook_url=client.n8n_webhook_url)
    return client


def outbound_secret_rotate(*, client: Client) -> str:
    """A new signing secret; the old one stops signing at once. Returned so staff can copy it (once)."""
    client.n8n_webhook_secret = new_event_secret()
    Client.objects.filter(pk=client.pk).update(n8n_webhook_secret=client.n8n_webhook_secret)
    return client.n8n_webhook_secret


def signature_header(*, secret: str, body: bytes, at: datetime) -> str:
    """`X-DBR-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""
    stamp = str(int(at.timestamp()))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


# --- recording ---


def outbound_event_record(*, lead: Lead, kind: str, at: datetime, data: dict) -> WebhookDelivery | None:
    """One delivery row for the event, when the client has a webhook URL (none set: nothing)."""
    return _record(event_type=str(kind), lead=lead, at=at, data=data)


def outbound_test_send(*, at: datetime) -> WebhookDelivery | None:
    """A `test.ping` event through the same path as real ones; None when no URL is set."""
    return _record(event_type=TEST_EVENT, lead=None, at=at, data={"message": "A test event from DBR."})


def _record(*, event_type: str, lead: Lead | None, at: datetime, data: dict) -> WebhookDelivery | None:
    client = _client()
    if not client.n8n_webhook_url:
        return None
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created_at": at.isoformat(),
        "client": {"slug": client.slug, "name": client.company_name},
        "lead": _lead_json(lead) if lead is not None else None,
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }
    delivery = WebhookDelivery.objects.create(
        event_id=event_id, event_type=event_type, lead=lead, payload=payload, next_attempt_at=at
    )
    enqueue(_deliver_task(), str(delivery.pk))
    return delivery


def _client() -> Client:
    # Read afresh: the connection's tenant may be an old copy (or a stand-in from schema_context).
    return Client.objects.only("slug", "company_name", "n8n_webhook_url", "n8n_webhook_secret").get(
        schema_name=connection.schema_name
    )


def _lead_json(lead: Lead) -> dict:
    return {
        "id": str(lead.pk),
        "first_name": lead.first_name,
        "last_name": lead.last_name or "",
        "phone": lead.phone_number,
        "email": lead.email or "",
        "status": lead.contact_status,
        "dataset": {"id": str(lead.dataset_id), "name": lead.dataset.name},
    }


def _deliver_task():
    from leads.tasks import deliver_webhook  # tasks import this module

    return deliver_webhook


# --- delivery ---


def deliveries_due(*, at: datetime) -> QuerySet[WebhookDelivery]:
    """Pending deliveries whose time has come and whose lead has no older event still pending."""
    older_pending = WebhookDelivery.objects.filter(
        lead_id=OuterRef("lead_id"), status=Status.PENDING, created_at__lt=OuterRef("created_at")
    )
    return WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=at).exclude(Exists(older_pending))


def deliveries_due_exist(*, at: datetime) -> bool:
    """The beat's cheap check (the status/next_attempt index); ordering is left to the delivery itself."""
    return WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=at).exists()


@dataclass
class Outcome:
    word: str  # delivered, retry, failed, waiting, not due
    delivery: WebhookDelivery | None = None


def webhook_delivery_attempt(*, delivery_id, at: datetime) -> Outcome:
    """One attempt at one delivery. The row is leased (attempts counted) before the POST, outside any
    transaction; the answer is recorded after it."""
    delivery = _lease(delivery_id, at)
    if delivery is None:
        return Outcome("not due")
    if isinstance(delivery, str):
        return Outcome(delivery)
    client = _client()
    status_code, error = None, ""
    if not client.n8n_webhook_url:
        error = "No webhook URL is set."
    else:
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        status_code, error = _post(client=client, body=body, at=at)
    delivered = not error
    update = {"last_status_code": status_code, "last_error": error[:1000]}
    if delivered:
        update |= {"status": Status.DELIVERED, "delivered_at": at, "next_attempt_at": None}
    elif delivery.attempts >= MAX_ATTEMPTS:
        update |= {"status": Status.FAILED, "next_attempt_at": None}
    else:
        update |= {"next_attempt_at": at + BACKOFF[delivery.attempts - 1]}
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**update)
    for field, value in update.items():
        setattr(delivery, field, value)
    if delivery.status != Status.PENDING and delivery.lead_id:
        _queue_next_of_lead(delivery, at)
    word = "delivered" if delivered else ("failed" if delivery.status == Status.FAILED else "retry")
    return Outcome(word, delivery)


def _lease(delivery_id, at: datetime) -> WebhookDelivery | str | None:
    """Claims a due delivery: one more attempt, and next_attempt_at moved past the POST's time."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=at)
            .first()
        )
        if delivery is None:
            return None
        if (
            delivery.lead_id
            and WebhookDelivery.objects.filter(
                lead_id=delivery.lead_id, status=Status.PENDING, created_at__lt=delivery.created_at
            ).exists()
        ):
            return "waiting"  # sent after the lead's older event, which queues it when it settles
        delivery.attempts += 1
        delivery.next_attempt_at = at + LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def _post(*, client: Client, body: bytes, at: datetime) -> tuple[int | None, str]:
    """(status code, error); an empty error means delivered (a 2xx answer)."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "DBR-webhooks/1",
        "X-DBR-Signature": signature_header(secret=client.n8n_webhook_secret, body=body, at=at),
    }
    try:
        response = requests.post(
            client.n8n_webhook_url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
        )
    except requests.Timeout:
        return None, f"No answer within {TIMEOUT_SECONDS} s."
    except requests.RequestException as exc:
        return None, f"Could not connect: {type(exc).__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    if response.is_redirect or 300 <= response.status_code < 400:
        where = response.headers.get("Location", "")
        return response.status_code, f"Redirected ({response.status_code}) to {where}; redirects are not followed."
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def _queue_next_of_lead(delivery: WebhookDelivery, at: datetime) -> None:
    """The lead's next event may go now that this one settled."""
    following = (
        WebhookDelivery.objects.filter(
            lead_id=delivery.lead_id, status=Status.PENDING, created_at__gt=delivery.created_at, next_attempt_at__lte=at
        )
        .order_by("created_at")
        .values_list("pk", flat=True)
        .first()
    )
    if following:
        enqueue(_deliver_task(), str(following), after_commit=False)


def recent_deliveries(*, limit: int = 20) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.order_by("-created_at")[:limit]
