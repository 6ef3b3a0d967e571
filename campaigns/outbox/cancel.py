"""Texts that must no longer go: cancelled with the reason, never sent."""

from datetime import datetime

from campaigns.models import Message

# Not yet handed to the provider: a cancelled text can still be stopped here.
CANCELLABLE = (Message.Status.PENDING, Message.Status.SCHEDULED, Message.Status.DRAFT)


def messages_cancel_for_number(*, phone_number: str, reason: str, at: datetime) -> int:
    """Every outbound text still queued for this number (cadence, nudge, planned replies) becomes
    `cancelled` with the reason; the opt-out confirmation itself is the one text that may still go."""
    return (
        Message.objects.filter(to_number=phone_number, direction=Message.Direction.OUTBOUND, status__in=CANCELLABLE)
        .exclude(message_type=Message.Type.OPT_OUT_CONFIRMATION)
        .update(status=Message.Status.CANCELLED, error_message=reason, next_attempt_at=None, due_at=None, updated_at=at)
    )


def messages_cancel_for_numbers(*, phone_numbers: list[str], reason: str, at: datetime) -> int:
    """As `messages_cancel_for_number`, for many numbers in one statement (bulk removal)."""
    return (
        Message.objects.filter(
            to_number__in=phone_numbers, direction=Message.Direction.OUTBOUND, status__in=CANCELLABLE
        )
        .exclude(message_type=Message.Type.OPT_OUT_CONFIRMATION)
        .update(status=Message.Status.CANCELLED, error_message=reason, next_attempt_at=None, due_at=None, updated_at=at)
    )
