"""Writes each lead's story: its conversation, messages, the stored inbound texts behind its replies,
timeline events and suppressions."""

import random
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.models import Conversation, InboundSms, Message
from clients.models import Client, User
from devtools.demo.greenstar import BOOKING_LINK, CLIENT_NUMBER
from devtools.demo.plans import Plan
from devtools.demo.replies import INTENT_BY_KEY, Intent, S
from devtools.demo.timing import outside_quiet_hours
from leads import events
from leads.models import CampaignSettings, Lead, LeadEvent, Suppression


@dataclass
class Turn:
    kind: str  # in / ai / auto / M1 / M2 / M3
    text: str
    at: datetime
    status: str = Message.Status.DELIVERED
    error: tuple | None = None


def _render(text: str, values: dict) -> str:
    return re.sub(r"\{([a-z_.]+)\}", lambda m: str(values.get(m.group(1), m.group(0))), text)


def _values(lead: Lead, company: str, cs: CampaignSettings, extra: dict) -> dict:
    return {
        "first_name": lead.first_name or "there",
        "last_name": lead.last_name or "",
        "company_name": company,
        "agent_name": cs.agent_name,
        "booking_link": cs.cal_booking_link or "",
        "postcode": lead.postcode or "",
        "enquiry_month": lead.inquiry_date.strftime("%B %Y") if lead.inquiry_date else "",
        **{f"custom.{k}": v for k, v in lead.custom_fields.items()},
        **extra,
    }


def _thread(rng: random.Random, plan: Plan, values: dict, cs: CampaignSettings) -> list[Turn]:
    templates = {1: cs.m1_message, 2: cs.m2_message, 3: cs.m3_message}
    turns = []
    for step, sent in plan.sends:
        status = rng.choices([Message.Status.DELIVERED, Message.Status.SENT], weights=[95, 5])[0]
        turn = Turn(f"M{step}", _render(templates[step], values), sent, status)
        if plan.undelivered:
            turn.status, turn.error = Message.Status.UNDELIVERED, plan.undelivered
        turns.append(turn)
    intent = INTENT_BY_KEY.get(plan.group)
    if not intent:
        return turns
    script = intent.scripts[plan.variant % len(intent.scripts)]
    moment = plan.sends[plan.reply_step - 1][1]
    for index, (kind, text) in enumerate(script):
        if kind == "in":
            wait = rng.randint(3, 240) if index == 0 else rng.randint(2, 90)
            moment = moment + timedelta(minutes=wait)
            turns.append(Turn("in", _render(text, values), moment, Message.Status.RECEIVED))
        else:
            moment = outside_quiet_hours(moment + timedelta(seconds=60 + rng.randint(0, 300)), rng)
            turns.append(Turn(kind, _render(text, values), moment, Message.Status.DELIVERED))
    return turns


def _sid(rng: random.Random) -> str:
    return f"SM{rng.getrandbits(128):032x}"


def threads_create(
    rng: random.Random,
    client: Client,
    cs: CampaignSettings,
    plans: list[Plan],
    owner: User,
    rep: User,
    imported: datetime,
    extras: dict,
) -> dict:
    conversations, messages, timed_events, suppressions, opt_outs = [], [], [], [], set()
    events.leads_imported([p.lead.pk for p in plans if p.group != "ready"], actor=owner)
    LeadEvent.objects.filter(lead__dataset=cs.datasets.get()).update(created_at=imported)
    for plan in plans:
        lead = plan.lead
        if plan.group == "ready":
            timed_events.append((events.lead_imported(lead, actor=owner), lead.created_at))
        if plan.group == "archived":
            timed_events.append((events.lead_archived(lead, reason=lead.notes, actor=owner), lead.archived_at))
        if not plan.sends:
            continue
        turns = _thread(rng, plan, _values(lead, client.company_name, cs, extras[lead.pk]), cs)
        conversation = Conversation(id=uuid.UUID(int=rng.getrandbits(128), version=4), lead=lead, dataset=lead.dataset)
        conversations.append(conversation)
        for turn in turns:
            messages.append(_message(rng, conversation, lead, turn))
        inbound = [t for t in turns if t.kind == "in"]
        lead.total_messages, lead.last_message_at = len(turns), turns[-1].at
        if inbound:
            lead.reply_received_at, lead.latest_lead_reply = inbound[-1].at, inbound[-1].text
        conversation.started_at, conversation.last_message_at = turns[0].at, turns[-1].at
        conversation.message_count = len(turns)
        conversation.sentiment = lead.lead_sentiment
        intent = INTENT_BY_KEY.get(plan.group)
        if intent:
            conversation.needs_review = intent.needs_review
            if lead.contact_status in (S.REMOVED, S.COLD):
                conversation.status = Conversation.Status.COMPLETED
        timed_events += _lead_events(plan, intent, messages[-len(turns) :], rep, extras[lead.pk])
        if intent and intent.suppress:
            opt_outs.add(next(m.pk for m in messages[-len(turns) :] if m.direction == Message.Direction.INBOUND))
            suppressions.append(
                Suppression(
                    phone_number=lead.phone_number,
                    source=intent.suppress,
                    created_at=inbound[0].at,
                    reason={"opt_out": "Replied: " + inbound[0].text, "wrong_number": "Wrong number"}[intent.suppress],
                )
            )
    Conversation.objects.bulk_create(conversations)
    Conversation.objects.bulk_update(conversations, ["started_at", "last_message_at"])
    Message.objects.bulk_create(messages, batch_size=1000)
    InboundSms.objects.bulk_create(_inbound_rows(rng, messages, opt_outs), batch_size=1000)
    Lead.objects.bulk_update(
        [p.lead for p in plans if p.sends],
        [
            "total_messages",
            "last_message_at",
            "reply_received_at",
            "latest_lead_reply",
            "manual_mode_activated_at",
        ],
    )
    Suppression.objects.bulk_create(suppressions)
    for event, at in timed_events:
        event.created_at = at
    LeadEvent.objects.bulk_update([e for e, _ in timed_events], ["created_at"], batch_size=500)
    return {
        "conversations": len(conversations),
        "messages": len(messages),
        "suppressions": len(suppressions),
        "inbound_texts": InboundSms.objects.count(),
        "lead_events": LeadEvent.objects.count(),
    }


def _message(rng: random.Random, conversation: Conversation, lead: Lead, turn: Turn) -> Message:
    inbound = turn.kind == "in"
    message = Message(
        conversation=conversation,
        lead=lead,
        content=turn.text,
        direction=Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
        message_type=None if inbound else (turn.kind if turn.kind.startswith("M") else Message.Type.REPLY),
        from_number=lead.phone_number if inbound else CLIENT_NUMBER,
        to_number=CLIENT_NUMBER if inbound else lead.phone_number,
        status=turn.status,
        twilio_sid=_sid(rng),
        twilio_status=turn.status,
        sent_at=turn.at,
        created_at=turn.at if inbound else turn.at - timedelta(seconds=rng.randint(1, 4)),
        ai_generated=turn.kind == "ai",
    )
    if turn.status == Message.Status.DELIVERED:
        message.delivered_at = turn.at + timedelta(seconds=rng.randint(3, 25))
    if turn.error:
        message.error_code, message.error_message = turn.error[0], turn.error[1]
    if turn.kind == "ai":
        message.ai_quality_score = rng.choice(["0.85", "0.90", "0.92", "0.95"])
    return message


def _inbound_rows(rng: random.Random, messages: list[Message], opt_outs: set) -> list[InboundSms]:
    """Each reply as the webhook would have stored it and a worker processed it a few seconds later."""
    rows = []
    for message in messages:
        if message.direction != Message.Direction.INBOUND:
            continue
        params = {
            "MessageSid": message.twilio_sid,
            "From": message.from_number,
            "To": message.to_number,
            "Body": message.content,
            "NumMedia": "0",
        }
        rows.append(
            InboundSms(
                message_sid=message.twilio_sid,
                from_number=message.from_number,
                to_number=message.to_number,
                body=message.content,
                params=params,
                received_at=message.sent_at,
                processed_at=message.sent_at + timedelta(seconds=rng.randint(1, 6)),
                attempts=1,
                outcome=InboundSms.Outcome.OPTED_OUT if message.pk in opt_outs else InboundSms.Outcome.MATCHED,
                lead=message.lead,
                message=message,
            )
        )
    return rows


def _lead_events(plan: Plan, intent: Intent | None, messages: list[Message], rep: User, extra: dict) -> list:
    lead, out = plan.lead, []
    for message in messages:
        if message.direction == Message.Direction.INBOUND:
            out.append((events.lead_replied(lead, message_id=message.pk, text=message.content), message.sent_at))
            continue
        step = message.message_type if message.message_type != Message.Type.REPLY else None
        out.append(
            (events.message_sent(lead, message_id=message.pk, step=step, sid=message.twilio_sid), message.sent_at)
        )
        if message.delivered_at:
            out.append(
                (events.message_delivered(lead, message_id=message.pk, sid=message.twilio_sid), message.delivered_at)
            )
        elif message.error_code:
            out.append(
                (
                    events.message_failed(
                        lead, message_id=message.pk, error_code=message.error_code, reason=message.error_message
                    ),
                    message.sent_at + timedelta(seconds=20),
                )
            )
    if not intent:
        return out
    first_reply = next(m for m in messages if m.direction == Message.Direction.INBOUND).sent_at
    after = first_reply + timedelta(seconds=30)
    if intent.status and lead.contact_status != f"CONTACTED_{len(plan.sends)}":
        old = f"CONTACTED_{len(plan.sends)}"
        new = S.HOT if intent.booked else lead.contact_status
        reason = "interested" if intent.booked else intent.key.replace("_", " ")
        out.append((events.status_changed(lead, old=old, new=new, reason=f"Reply: {reason}"), after))
    if intent.suppress:
        out.append((events.number_suppressed(lead, source=intent.suppress, reason=intent.summary), after))
    if lead.assigned_to_id:
        out.append((events.lead_assigned(lead, assignee=rep), after + timedelta(seconds=5)))
    if lead.manual_mode:
        lead.manual_mode_activated_at = after + timedelta(seconds=5)
        out.append((events.manual_mode_changed(lead, enabled=True), lead.manual_mode_activated_at))
    if intent.booked:
        link = next(m for m in messages if BOOKING_LINK in m.content)
        booked_at = link.sent_at + timedelta(minutes=1)
        out.append(
            (
                events.call_booked(lead, booking_id=lead.cal_booking_id, start=lead.call_booked_time.isoformat()),
                booked_at,
            )
        )
        out.append((events.status_changed(lead, old=S.HOT, new=S.CALL_BOOKED, reason="Cal.com booking"), booked_at))
    if "check_back" in extra:
        out.append((events.note_added(lead, text=f"Check back in {extra['check_back']:%B %Y}."), after))
    return out
