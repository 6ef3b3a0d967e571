"""Reads of campaign data for a user or a page: conversations, threads, the inbox and the campaign page's figures."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery, TextChoices
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from campaigns.models import Conversation, InboundSms, Message
from campaigns.schedule import next_send_time, window_from_settings
from clients.models import User
from clients.roles import sees_all_leads
from leads.bookings import open_booking_events
from leads.models import WEEKDAYS, BookingEvent, CampaignSettings, Dataset, Lead
from leads.selectors import leads_visible_to, sees_every_dataset


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    return Conversation.objects.filter(lead__in=leads_visible_to(user))


def messages_visible_to(user: User) -> QuerySet[Message]:
    return Message.objects.filter(lead__in=leads_visible_to(user))


PLANNED = (Message.Status.SCHEDULED, Message.Status.DRAFT)  # Sophie's reply still to be written or approved


def lead_thread(lead: Lead) -> QuerySet[Message]:
    """The texts that exist: a planned reply is shown apart (it has no text until it falls due)."""
    return (
        Message.objects.filter(lead=lead)
        .exclude(status__in=PLANNED)
        .select_related("sent_by", "inbound_sms")
        .order_by("created_at")
    )


def lead_planned_reply(lead: Lead) -> Message | None:
    """Sophie's scheduled or draft reply to the lead, if any (at most one: a partial unique index)."""
    return Message.objects.filter(lead=lead, status__in=PLANNED).first()


# --- The inbox -------------------------------------------------------------------------------------

UNREAD = Q(direction=Message.Direction.INBOUND, read_at=None)
# What puts a conversation in the inbox, by filter name; "" is all of them.
CONVERSATION_KINDS = {
    "unread": Q(has_unread=True),
    "hot": Q(lead__contact_status=Lead.ContactStatus.HOT),
    "review": Q(needs_review=True),
    "drafts": Q(has_draft=True),  # Sophie's suggestions waiting for a person (suggest mode)
}
# Texts that reached no conversation, by filter name.
TEXT_KINDS = {
    "unmatched": InboundSms.Outcome.UNMATCHED,
    "foreign": InboundSms.Outcome.FOREIGN_TO,
    "errors": InboundSms.Outcome.ERROR,
}
INBOX_KINDS = {
    "": "Everything",
    "unread": "Unread",
    "hot": "Hot",
    "review": "Needs review",
    "drafts": "Sophie's drafts",
    "unmatched": "Unknown numbers",
    "foreign": "Not our number",
    "errors": "Errors",
}


@dataclass(frozen=True)
class InboxEntry:
    at: datetime
    conversation: Conversation | None = None  # a lead's conversation that needs a person
    text: InboundSms | None = None  # or a text that reached no conversation


def inbox_entries(user: User, *, kind: str = "", mine: bool = False, limit: int = 100) -> list[InboxEntry]:
    """What needs a person, newest first: conversations (unread, HOT, needs review) and, for users who
    see every lead, texts that matched no lead, went to a number that is not ours, or failed."""
    entries = []
    if kind in ("", *CONVERSATION_KINDS):
        for conversation in inbox_conversations(user, kind=kind, mine=mine)[:limit]:
            entries.append(InboxEntry(conversation.last_message_at, conversation=conversation))
    if kind in ("", *TEXT_KINDS) and not mine:
        for text in unrouted_texts_visible_to(user, kind=kind)[:limit]:
            entries.append(InboxEntry(text.received_at, text=text))
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]


def inbox_conversations(user: User, *, kind: str = "", mine: bool = False) -> QuerySet[Conversation]:
    # Subqueries, not a join and GROUP BY: only the rows the page shows are counted.
    unread = Message.objects.filter(UNREAD, conversation=OuterRef("pk"))
    count = unread.order_by().values("conversation").annotate(n=Count("pk")).values("n")
    conversations = (
        conversations_visible_to(user)
        .annotate(
            has_unread=Exists(unread),
            unread=Coalesce(Subquery(count), 0),
            has_draft=Exists(Message.objects.filter(conversation=OuterRef("pk"), status=Message.Status.DRAFT)),
        )
        .filter(CONVERSATION_KINDS.get(kind) or Q(*CONVERSATION_KINDS.values(), _connector=Q.OR))
        .select_related("lead", "lead__assigned_to", "dataset")
        .order_by("-last_message_at")
    )
    return conversations.filter(lead__assigned_to=user) if mine else conversations


def unrouted_texts_visible_to(user: User, *, kind: str = "") -> QuerySet[InboundSms]:
    """A text that reached no lead belongs to no dataset: only users who see every dataset and every
    lead see it."""
    if not sees_every_lead(user):
        return InboundSms.objects.none()
    outcomes = [TEXT_KINDS[kind]] if kind in TEXT_KINDS else list(TEXT_KINDS.values())
    return InboundSms.objects.filter(outcome__in=outcomes).order_by("-received_at")


def open_bookings_visible_to(user: User, *, limit: int = 20) -> list[BookingEvent]:
    """Cal.com deliveries no lead took (docs/bookings.md): like unrouted texts, only for users who see
    every lead."""
    if not sees_every_lead(user):
        return []
    return list(open_booking_events()[:limit])


def unrouted_text_for(user: User, pk) -> InboundSms:
    return get_object_or_404(unrouted_texts_visible_to(user), pk=pk)


def sees_every_lead(user: User) -> bool:
    return sees_all_leads(user) and sees_every_dataset(user)


UNREAD_CAP = 100  # the nav shows "99+" from here


def unread_count(user: User) -> int:
    """Inbound texts nobody on the team has opened yet, among the leads the user sees.

    Every page's nav shows it: for a user who sees every lead it reads the partial index alone (the
    lead subquery made the planner scan every lead: seconds at a million, docs/dashboard.md)."""
    if sees_every_lead(user):
        # Up to UNREAD_CAP, walking idx_messages_unread in its order: the planner misjudges how many
        # inbound texts are unread (outbound rows have no read_at either) and would scan them all.
        unread = Message.objects.filter(UNREAD).order_by("lead_id").values_list("pk", flat=True)
        return len(unread[:UNREAD_CAP])
    return messages_visible_to(user).filter(UNREAD).count()


def campaign_figures(dataset: Dataset) -> dict[str, list[tuple[str, str, int]] | datetime | None]:
    """The campaign page's counts: leads by status, messages by status, and when the next text is planned."""
    leads = dataset.leads.values_list("contact_status").annotate(n=Count("pk")).order_by()
    messages = Message.objects.filter(lead__dataset=dataset).values_list("status").annotate(n=Count("pk")).order_by()
    next_send = Message.objects.filter(lead__dataset=dataset, status="pending").aggregate(at=Min("next_attempt_at"))
    return {
        "lead_counts": _labelled(leads, Lead.ContactStatus),
        "message_counts": _labelled(messages, Message.Status),
        "next_send_at": next_send["at"],
    }


def campaign_timing(dataset: Dataset, options: CampaignSettings, *, now: datetime) -> dict[str, str | int | None]:
    """The sending window and rate limits in words, and, while the campaign runs, when M1 goes to the
    leads waiting for it (after Start in quiet hours nothing else says so)."""
    try:
        window = window_from_settings(options)
    except ValueError:
        window = None
    if window is not None and window.start is None:
        window = None  # sending hours not set: it never opens
    timing = {"window_text": _window_text(options) if window else None, "rate_text": _rate_text(options)}
    timing["m1_waiting"], timing["m1_at"] = 0, None
    if window is None or dataset.campaign_status != Dataset.CampaignStatus.ACTIVE:
        return timing
    waiting = dataset.leads.filter(next_step=Lead.Step.M1, m1_sent_at=None).aggregate(n=Count("pk"), due=Min("due_at"))
    if waiting["n"]:
        at = next_send_time(window, max(now, waiting["due"] or now), step="M1", respect_sending_hours=True)
        timing["m1_waiting"] = waiting["n"]
        if at is None:
            timing["m1_at"] = "never: the sending window never opens"
        elif at <= now + timedelta(minutes=2):
            timing["m1_at"] = "now (within a minute or two)"
        else:
            timing["m1_at"] = f"{at.astimezone(window.tz):%a %-d %b at %H:%M} ({window.tz.key}), when the window opens"
    return timing


def _window_text(options: CampaignSettings) -> str:
    days = [WEEKDAYS.index(day) for day in options.sending_days or [] if day in WEEKDAYS]
    names = [WEEKDAYS[day][:3].title() for day in sorted(days)]
    consecutive = len(days) > 2 and sorted(days) == list(range(min(days), max(days) + 1))
    day_text = f"{names[0]}–{names[-1]}" if consecutive else ", ".join(names)
    hours = f"{options.sending_hours_start:%H:%M}–{options.sending_hours_end:%H:%M}"
    holidays = ", not on bank holidays" if options.bank_holiday_region else ""
    return f"{day_text}, {hours} ({options.sending_timezone}){holidays}"


def _rate_text(options: CampaignSettings) -> str:
    limits = [
        (options.messages_per_minute, "a minute"),
        (options.messages_per_hour, "an hour"),
        (options.messages_per_day, "a day"),
    ]
    limits = [(count, per) for count, per in limits if count]
    if not limits:
        return "no rate limit"
    words = [f"{count} {'text' if count == 1 else 'texts'} {per}" for count, per in limits[:1]]
    words += [f"{count} {per}" for count, per in limits[1:]]
    return "at most " + (f"{', '.join(words[:-1])} and {words[-1]}" if len(words) > 1 else words[0])


def _labelled(counts, choices: type[TextChoices]) -> list[tuple[str, str, int]]:
    """(value, label, count) in the order of the choices, non-zero only."""
    found = dict(counts)
    return [(value, label, found[value]) for value, label in choices.choices if found.get(value)]
